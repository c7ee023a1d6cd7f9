#!/usr/bin/env bash
# The data plane benchmark (tests/bench/netplane.rs): a whole Virga and one
# agent whose data plane is a network namespace of the benchmark's own;
# EXISTING ports bound to the node first, then PORTS ports one by one, each
# timed from POST /v2.0/ports to ACTIVE (the node applied the plan holding
# it: bridge, DHCP host, nftables filter). Embedded (SQLite) and distributed
# (PostgreSQL + RabbitMQ from the test kit). Prints the figures for
# docs/benchmarks.md.
# Usage: scripts/bench-netplane.sh [PORTS] [EXISTING...]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install postgresql-15 rabbitmq-server iproute2 nftables dnsmasq-base radvd
ports="${1:-200}"
shift || true
existing=("${@:-0 500}")
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-netplane
bin="${CARGO_TARGET_DIR:-target}/release/bench-netplane"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
for backend in embedded distributed; do
    for e in ${existing[@]}; do
        "$bin" --backend "$backend" --ports "$ports" --existing "$e"
    done
done
