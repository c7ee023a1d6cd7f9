#!/usr/bin/env bash
# Image data throughput for docs/benchmarks.md: a random image of SIZE MiB
# (default 1024) uploaded to and downloaded from `virga up` (release build,
# embedded, local store) with curl, next to the same file copied with `cp`
# (+ fsync, as the store syncs) and fetched with curl from a plain HTTP
# server (python3 -m http.server) on loopback. The image service's RSS is
# sampled every 0.2 s throughout, to show memory stays flat.
# Usage: scripts/bench-image.sh [SIZE_MIB]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_cargo
apt_install ca-certificates curl python3
size="${1:-1024}"
cd "$here/.."
cargo build --quiet --release -p virga
bin="$CARGO_TARGET_DIR/release/virga"
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s%N; }
rate() { # rate START END: MiB/s for $size MiB
    python3 -c "print(f'{$size / (($2 - $1) / 1e9):.0f}')"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

head -c "${size}M" /dev/urandom >"$work/img"
sync "$work/img"

t0=$(now); cp "$work/img" "$work/copy"; sync "$work/copy"; t1=$(now)
cp_rate=$(rate "$t0" "$t1")
rm -f "$work/copy"

port=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$work" >/dev/null 2>&1 &
pids+=($!)
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done
t0=$(now); curl -s -o /dev/null "http://127.0.0.1:$port/img"; t1=$(now)
curl_rate=$(rate "$t0" "$t1")

mkdir "$work/data"
fifo="$work/out"
mkfifo "$fifo"
env VIRGA_DATA_DIR="$work/data" VIRGA_LOG__LEVEL=warn VIRGA_IMAGE__QUOTA__BYTES=-1 \
    VIRGA_SERVICES__IDENTITY__LISTEN=127.0.0.1:0 VIRGA_SERVICES__COMPUTE__LISTEN=127.0.0.1:0 \
    VIRGA_SERVICES__IMAGE__LISTEN=127.0.0.1:0 VIRGA_SERVICES__NETWORK__LISTEN=127.0.0.1:0 \
    VIRGA_SERVICES__SCHEDULER__LISTEN=127.0.0.1:0 VIRGA_SERVICES__TELEMETRY__LISTEN=127.0.0.1:0 \
    "$bin" up --test-images "$work/none" >"$fifo" &
virga=$!
pids+=("$virga")
while IFS= read -r line; do
    case "$line" in
        identity*) identity="${line##* }" ;;
        image*) image="${line##* }" ;;
        *"with password"*) password="${line##* }" ;;
        virga:*ready*) break ;;
    esac
done <"$fifo"
exec 3<"$fifo" # keep the pipe open so virga's stdout does not break
token=$(curl -s -i -H 'Content-Type: application/json' "$identity/v3/auth/tokens" -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$password\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" |
    awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')
id=$(curl -s -H "X-Auth-Token: $token" -H 'Content-Type: application/json' "$image/v2/images" \
    -d '{"name":"bench","disk_format":"raw","container_format":"bare"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

(while kill -0 "$virga" 2>/dev/null; do ps -o rss= -p "$virga" || true; sleep 0.2; done) >"$work/rss" &
pids+=($!)
sleep 0.5
t0=$(now)
curl -s -f -T "$work/img" -X PUT -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/octet-stream' "$image/v2/images/$id/file"
t1=$(now)
up_rate=$(rate "$t0" "$t1")
t0=$(now)
curl -s -f -o /dev/null -H "X-Auth-Token: $token" "$image/v2/images/$id/file"
t1=$(now)
down_rate=$(rate "$t0" "$t1")
sleep 0.5
rss=$(sort -n "$work/rss" | awk 'NR==1{min=$1} {max=$1} END{printf "%d-%d MiB", min/1024, max/1024}')

echo "size ${size} MiB"
echo "cp + sync:            ${cp_rate} MiB/s"
echo "curl from http.server: ${curl_rate} MiB/s"
echo "virga upload (curl):   ${up_rate} MiB/s ($(python3 -c "print(f'{100*$up_rate/$cp_rate:.0f}')")% of cp)"
echo "virga download (curl): ${down_rate} MiB/s ($(python3 -c "print(f'{100*$down_rate/$curl_rate:.0f}')")% of curl)"
echo "image service RSS during the run: $rss"
