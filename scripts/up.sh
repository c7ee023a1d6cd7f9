#!/usr/bin/env bash
# Builds virga and runs every service in one process (`virga up`): SQLite
# files under the data dir and the in-process bus. Extra arguments go to
# `virga up` (e.g. --data-dir /tmp/virga).
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
apt_install ca-certificates
cd "$here/.."
cargo build --quiet -p virga
exec "$CARGO_TARGET_DIR/debug/virga" up "$@"
