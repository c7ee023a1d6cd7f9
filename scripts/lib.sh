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

# npm_ci DIR: installs DIR's npm packages exactly as its package-lock.json
# says, and skips that when node_modules was last installed from the same
# lock (npm ci would delete and reinstall it every time).
npm_ci() {
    local dir="$1" stamp="$1/node_modules/.virga-lock-sha256" want
    if ! command -v npm >/dev/null 2>&1; then
        echo "virga: npm (and Node.js 20.19 or newer) is required for $dir" >&2
        exit 1
    fi
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "virga: npm ci in $dir" >&2
        npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
        echo "$want" >"$stamp"
    fi
}

# pip_venv DIR REQUIREMENTS: a Python virtualenv at DIR with REQUIREMENTS
# installed, skipped when DIR was last installed from the same file.
pip_venv() {
    local dir="$1" req="$2" stamp="$1/.virga-requirements-sha256" want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "virga: pip install -r $req into $dir" >&2
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
        echo "$want" >"$stamp"
    fi
}
