#!/usr/bin/env bash
# Measures how long `virga up` takes from exec to "ready" (all six services
# listening, migrations applied) on a fresh data dir, N times (default 10).
# Prints each run and min / median / max in ms, for docs/benchmarks.md.
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_cargo
runs="${1:-10}"
cd "$here/.."
cargo build --quiet --release -p virga
bin="$CARGO_TARGET_DIR/release/virga"
times=()
for i in $(seq 1 "$runs"); do
    dir="$(mktemp -d)"
    fifo="$dir/out"
    mkfifo "$fifo"
    start=$(date +%s%N)
    env VIRGA_DATA_DIR="$dir" VIRGA_LOG__LEVEL=warn \
        VIRGA_SERVICES__IDENTITY__LISTEN=127.0.0.1:0 VIRGA_SERVICES__COMPUTE__LISTEN=127.0.0.1:0 \
        VIRGA_SERVICES__IMAGE__LISTEN=127.0.0.1:0 VIRGA_SERVICES__NETWORK__LISTEN=127.0.0.1:0 \
        VIRGA_SERVICES__SCHEDULER__LISTEN=127.0.0.1:0 VIRGA_SERVICES__TELEMETRY__LISTEN=127.0.0.1:0 \
        "$bin" up >"$fifo" &
    pid=$!
    while IFS= read -r line; do
        case "$line" in virga:*ready*) break ;; esac
    done <"$fifo"
    end=$(date +%s%N)
    kill -TERM "$pid"
    wait "$pid" || true
    rm -rf "$dir"
    ms=$(( (end - start) / 1000000 ))
    times+=("$ms")
    echo "run $i: ${ms} ms"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "min ${sorted[0]} ms, median ${sorted[$(( runs / 2 ))]} ms, max ${sorted[$(( runs - 1 ))]} ms over $runs runs"
