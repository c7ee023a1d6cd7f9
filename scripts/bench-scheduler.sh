#!/usr/bin/env bash
# The scheduler benchmark (tests/bench/scheduler.rs): a whole Virga with
# SITES sites of NODES nodes registered over the bus, then SELECTS
# select + claim calls from 8 concurrent callers and allocation-candidate
# queries; embedded (SQLite) and distributed (PostgreSQL + RabbitMQ from
# the test kit). Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-scheduler.sh [SITES] [NODES] [SELECTS] [ROUNDS]
# (ROUNDS rounds of SELECTS selects each, printed one by one: on a small
# machine one round's figure varies by a fifth or more.)
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install postgresql-15 rabbitmq-server
sites="${1:-200}"
nodes="${2:-50}"
selects="${3:-4000}"
rounds="${4:-3}"
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-scheduler
bin="${CARGO_TARGET_DIR:-target}/release/bench-scheduler"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
for backend in embedded distributed; do
    "$bin" --backend "$backend" --sites "$sites" --nodes "$nodes" --selects "$selects" --rounds "$rounds" --callers 8
done
