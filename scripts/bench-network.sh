#!/usr/bin/env bash
# The network benchmark (tests/bench/network.rs): a whole Virga, one
# tenant network with a /16 subnet, then PORTS port creations from 16
# concurrent callers, ROUNDS times; every address is read back and checked
# for duplicates. Embedded (SQLite) and distributed (PostgreSQL + RabbitMQ
# from the test kit). Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-network.sh [PORTS] [ROUNDS]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install postgresql-15 rabbitmq-server
ports="${1:-4000}"
rounds="${2:-3}"
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-network
bin="${CARGO_TARGET_DIR:-target}/release/bench-network"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
for backend in embedded distributed; do
    "$bin" --backend "$backend" --ports "$ports" --rounds "$rounds" --callers 16
done
