#!/usr/bin/env bash
# Builds virga and the test images, and runs every service in one process
# (`virga up`): SQLite files under the data dir and the in-process bus; the
# first start registers the test VM image. Extra arguments go to
# `virga up` (e.g. --data-dir /tmp/virga).
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
# libvirtd and its QEMU driver for the edge agent; libvirt-dev and pkg-config
# build the agent's libvirt bindings (the `virt` crate); xorriso makes config
# drives; iproute2, nftables, dnsmasq and radvd are the agent's network data plane.
apt_install ca-certificates libvirt-daemon libvirt-daemon-driver-qemu libvirt-dev pkg-config xorriso iproute2 nftables dnsmasq-base radvd
cd "$here/.."
cargo build --quiet -p virga
# Small real test images, registered by `virga up` on its first start.
"$here/build-test-images.sh" "$HOME/.cache/virga-test-images"
exec "$CARGO_TARGET_DIR/debug/virga" up --test-images "$HOME/.cache/virga-test-images" "$@"
