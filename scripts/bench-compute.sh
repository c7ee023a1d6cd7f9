#!/usr/bin/env bash
# The compute benchmark (tests/bench/compute.rs): a whole Virga and one
# node on the simulated hypervisor with no delay; create -> ACTIVE at 1, 8
# and 32 concurrent creators (SERVERS each), creates per second; the
# sustained build rate of SUSTAINED creates posted without waiting; and
# GET /v2.1/servers/detail with DETAIL servers in the project. Embedded
# (SQLite) and distributed (PostgreSQL + RabbitMQ from the test kit).
# Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-compute.sh [SERVERS] [DETAIL] [SUSTAINED]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install postgresql-15 rabbitmq-server
servers="${1:-200}"
detail="${2:-10000}"
sustained="${3:-2000}"
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-compute
bin="${CARGO_TARGET_DIR:-target}/release/bench-compute"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
for backend in embedded distributed; do
    "$bin" --backend "$backend" --servers "$servers" --detail "$detail" --levels 1,8,32 --sustained "$sustained"
done
