#!/usr/bin/env bash
# The control-plane scale benchmark (tests/bench/agent_scale.rs): AGENTS
# simulated edge agents in one process against a whole Virga, embedded
# (SQLite, in-process bus) and distributed (PostgreSQL + RabbitMQ from the
# test kit). Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-agent-scale.sh [AGENTS] [SITES] [IDLE_SECS]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install postgresql-15 rabbitmq-server
agents="${1:-1000}"
sites="${2:-50}"
idle="${3:-60}"
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-agent-scale
bin="${CARGO_TARGET_DIR:-target}/release/bench-agent-scale"
# Each agent's ledger holds three files open (SQLite in WAL mode).
ulimit -n "$(ulimit -Hn)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
for backend in embedded distributed; do
    "$bin" --backend "$backend" --agents "$agents" --sites "$sites" --idle-secs "$idle"
done
