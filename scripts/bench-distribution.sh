#!/usr/bin/env bash
# The image distribution benchmark (tests/bench/distribution.rs): a whole
# Virga (embedded) with SITES edge sites' stores and NODES agents per site
# (simulated driver, each with its own image cache) in one process; an
# image of MIB MiB is copied to every site and pre-fetched onto every node,
# first from each node's site store, then (for comparison) with every node
# fetching from the centre. Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-distribution.sh [SITES] [NODES] [MIB]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
sites="${1:-5}"
nodes="${2:-10}"
mib="${3:-256}"
cd "$here/.."
cargo build --quiet --release -p virga-tests --bin bench-distribution
bin="${CARGO_TARGET_DIR:-target}/release/bench-distribution"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
"$bin" --sites "$sites" --nodes-per-site "$nodes" --mib "$mib"
"$bin" --sites "$sites" --nodes-per-site "$nodes" --mib "$mib" --direct
