# Shared by the set-up scripts: install Debian packages only when missing, and
# keep the cargo build outside the clone so CI reuses it.
set -euo pipefail

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/virga-target}"
export DEBIAN_FRONTEND=noninteractive

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "virga: run this as root (it installs Debian packages)" >&2
        exit 1
    fi
}

need_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "virga: cargo (Rust 1.88 or newer) is required; install it with rustup first" >&2
        exit 1
    fi
}

# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "virga: installing ${missing[*]}" >&2
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
