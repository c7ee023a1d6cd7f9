#!/usr/bin/env bash
# The agent footprint benchmark (tests/bench/agent.rs): the slim
# `virga-agent` binary as a process on a private RabbitMQ node at its
# default rhythms, idle with no instance and with 50 on the simulated
# driver, built with libvirt and without (the gateway build); then with 2
# real TCG guests of the test image on the libvirt driver (the test kit's
# private libvirtd). Prints the figures for docs/benchmarks.md.
# Usage: scripts/bench-agent.sh [IDLE_SECS]
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install rabbitmq-server libvirt-daemon libvirt-daemon-driver-qemu libvirt-dev pkg-config
idle="${1:-60}"
cd "$here/.."
target="${CARGO_TARGET_DIR:-target}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo build --quiet --release -p virga-tests --bin bench-agent
cargo build --quiet --release -p virga-agent --no-default-features
cp "$target/release/virga-agent" "$out/virga-agent-gateway"
cargo build --quiet --release -p virga-agent
cp "$target/release/virga-agent" "$out/virga-agent-libvirt"
images="${VIRGA_TEST_IMAGES:-$HOME/.cache/virga-test-images}"
"$here/build-test-images.sh" "$images"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"); $(date -u +%F)"
bench="$target/release/bench-agent"
for build in gateway libvirt; do
    "$bench" --virga "$out/virga-agent-$build" --instances 50 --idle-secs "$idle"
done
"$bench" --virga "$out/virga-agent-libvirt" --driver libvirt --instances 2 --idle-secs "$idle" \
    --image "$images/virga-test-vm.qcow2"
