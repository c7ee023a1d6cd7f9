#!/usr/bin/env bash
# The whole test suite: formatting, lints, the OpenAPI drift check and every
# test (unit, bus suite on RabbitMQ and in-process, migrations on SQLite and
# PostgreSQL, end-to-end `virga up`). Installs what the tests need first; the
# tests start their own private PostgreSQL and RabbitMQ servers.
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
need_cargo
# qemu-utils and xorriso write the real disk images and ISOs format tests
# inspect; openssl makes the keys, certificates and signatures of signed images;
# nftables, iproute2, dnsmasq, radvd and busybox (its DHCP client in test guests)
# for the network data plane tests.
apt_install ca-certificates postgresql-15 rabbitmq-server python3-venv qemu-utils xorriso openssl nftables iproute2 dnsmasq-base radvd busybox
# QEMU boots the test images. qemu-system-x86 comes from bookworm main and
# needs the same version of qemu-utils (a newer one may be preinstalled).
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    v="$(apt-cache policy qemu-system-x86 | awk '/Candidate/{print $2}')"
    pins=("qemu-utils=$v")
    if dpkg-query -W -f='${Status}' qemu-block-extra 2>/dev/null | grep -q "install ok installed"; then
        pins+=("qemu-block-extra=$v")
    fi
    echo "virga: installing qemu-system-x86 $v" >&2
    apt-get install -y -qq --no-install-recommends --allow-downgrades qemu-system-x86 "${pins[@]}" >/dev/null
fi
# libvirt for the edge agent's driver tests: the testkit runs its own private
# libvirtd (QEMU driver) per test run and tests drive it with virsh;
# libvirt-dev and pkg-config build the `virt` crate. Not libvirt-daemon-system,
# which is systemd units and the default config the testkit replaces.
apt_install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev pkg-config
# A real S3-compatible server (s3s: the S3 protocol over a directory) that
# the testkit starts privately for the image service's S3 store tests.
if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
    cargo install --locked s3s-fs@0.14.1 --features binary
fi
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi
cd "$here/.."
# The OpenID Connect provider the testkit runs for federation tests.
npm_ci crates/testkit/oidc-provider
# python-openstackclient, which the CLI tests drive against `virga up`.
pip_venv "$HOME/.cache/virga-openstackclient" scripts/requirements-openstackclient.txt
export VIRGA_OPENSTACK_CLIENT="$HOME/.cache/virga-openstackclient/bin/openstack"
# The test images (a bootable busybox VM, an OCI archive), rebuilt only when
# their script or Debian packages change.
export VIRGA_TEST_IMAGES="$HOME/.cache/virga-test-images"
"$here/build-test-images.sh" "$VIRGA_TEST_IMAGES"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
# Without the test-only features too: code used only by tests must not warn.
cargo clippy --quiet --workspace -- -D warnings
# The gateway build of the agent, without libvirt.
cargo clippy --quiet -p virga-agent --no-default-features --all-targets -- -D warnings
echo "== OpenAPI drift check"
cargo xtask openapi check
echo "== tests"
cargo nextest run --workspace --all-features --no-fail-fast
