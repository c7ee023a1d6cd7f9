#!/usr/bin/env bash
# The agent footprint benchmark (tests/bench/agent.rs): `virga agent` as a
# process on a private RabbitMQ node at its default rhythms, idle with no
# instance and with 50 on the simulated driver; the same for the gateway
# build without libvirt; and with 2 real TCG guests of the test image on
# the libvirt driver. Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-agent.sh [IDLE_SECS]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install rabbitmq-server libvirt-daemon libvirt-daemon-driver-qemu libvirt-dev pkg-config
idle="${1:-60}"
cd "$here/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release -p virga -p virga-tests --bin virga --bin bench-agent
# The gateway build (no libvirt linked) in its own target directory.
CARGO_TARGET_DIR="$target/gateway" cargo build --quiet --release -p virga --no-default-features
images="${VIRGA_TEST_IMAGES:-$HOME/.cache/virga-test-images}"
"$here/build-test-images.sh" "$images"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
bench="$target/release/bench-agent"
"$bench" --virga "$target/release/virga" --instances 50 --idle-secs "$idle"
"$bench" --virga "$target/gateway/release/virga" --instances 50 --idle-secs "$idle"
"$bench" --virga "$target/release/virga" --driver libvirt --instances 2 --idle-secs "$idle" \
    --image "$images/virga-test-vm.qcow2"
