#!/usr/bin/env bash
# Builds virga and the test images, and runs every service in one process
# (`virga up`): SQLite files under the data dir and the in-process bus; the
# first start registers the test VM image. Extra arguments go to
# `virga up` (e.g. --data-dir /tmp/virga).
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install ca-certificates
cd "$here/.."
cargo build --quiet -p virga
# Small real test images, registered by `virga up` on its first start.
"$here/build-test-images.sh" "$HOME/.cache/virga-test-images"
exec "$CARGO_TARGET_DIR/debug/virga" up --test-images "$HOME/.cache/virga-test-images" "$@"
