#!/usr/bin/env bash
# Builds Virga's small, real test images from Debian packages (downloaded
# from the Debian archive, never installed; no other internet):
#
#   virga-test-vm.iso    a hybrid ISO booting Debian's cloud kernel with a
#                        busybox initramfs whose init loads virtio, gets an
#                        address with udhcpc, serves HTTP on port 80 with
#                        busybox httpd and prints VIRGA-TEST-IMAGE-READY on
#                        the serial console
#   virga-test-vm.qcow2  the same, as a qcow2 disk (the ISO's MBR boots it)
#   vmlinuz, initrd.img  the kernel and initramfs, for direct kernel boot
#   virga-test-busybox.oci.tar  an OCI image archive (layout) of busybox
#
# Usage: scripts/build-test-images.sh [OUT_DIR]
# (default: $VIRGA_TEST_IMAGES or ~/.cache/virga-test-images). Rebuilds only
# when this script or the Debian packages changed. Needs root (apt-get).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"
need_root
apt_install ca-certificates xorriso qemu-utils

out="${1:-${VIRGA_TEST_IMAGES:-$HOME/.cache/virga-test-images}}"
mkdir -p "$out"
kernel_pkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"
if [ -z "$kernel_pkg" ]; then
    apt-get update -qq
    kernel_pkg="$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')"
fi
pkgs=("$kernel_pkg" busybox-static isolinux syslinux-common)
versions="$(for p in "${pkgs[@]}"; do apt-cache policy "$p" | awk -v p="$p" '/Candidate/{print p "=" $2}'; done)"
stamp="$(printf '%s\n%s\n' "$versions" "$(sha256sum "$0" | cut -d' ' -f1)")"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "virga: test images in $out are up to date" >&2
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt's sandbox user cannot write a root-only temp dir.
chmod 755 "$work"
apt-get download -qq "${pkgs[@]}" 2>/dev/null
for d in ./*.deb; do dpkg-deb -x "$d" debs; done
kver="${kernel_pkg#linux-image-}"
busybox="$work/debs/bin/busybox"
mods="$work/debs/lib/modules/$kver/kernel"

# The initramfs: busybox, the virtio modules (in load order) and /init.
mkdir -p initramfs/{bin,dev,proc,sys,tmp,run,www,etc/udhcpc,lib/modules}
cp "$busybox" initramfs/bin/busybox
for m in virtio/virtio virtio/virtio_ring virtio/virtio_pci_modern_dev \
    virtio/virtio_pci_legacy_dev virtio/virtio_pci ../net/core/failover \
    net/net_failover net/virtio_net block/virtio_blk; do
    cp "$mods/drivers/$m.ko" initramfs/lib/modules/
done
cat > initramfs/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci \
         failover net_failover virtio_net virtio_blk; do
    grep -q "^$m " /proc/modules || insmod /lib/modules/$m.ko || echo "virga-test-image: insmod $m failed"
done
hostname virga-test
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
udhcpc -i eth0 -t 20 -T 1 -n -q -S
addr="$(ip -4 -o addr show eth0 | awk '{print $4}')"
echo "virga-test-image $(hostname) ${addr:-no-address}" > /www/index.html
httpd -p 80 -h /www
echo "VIRGA-TEST-IMAGE-READY ${addr:-no-address}" > /dev/console
exec setsid cttyhack sh
EOF
# Debian's busybox looks for its udhcpc hook here.
cat > initramfs/etc/udhcpc/default.script <<'EOF'
#!/bin/sh
case "$1" in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
        : > /etc/resolv.conf
        for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done ;;
esac
EOF
chmod 755 initramfs/init initramfs/etc/udhcpc/default.script
(cd initramfs && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -9 > initrd.img
cp "debs/boot/vmlinuz-$kver" vmlinuz

# The bootable ISO: isolinux with the kernel and initramfs, hybrid so that
# the same bytes boot as a hard disk.
mkdir -p iso/isolinux iso/boot
cp debs/usr/lib/ISOLINUX/isolinux.bin debs/usr/lib/syslinux/modules/bios/ldlinux.c32 iso/isolinux/
cp vmlinuz initrd.img iso/boot/
cat > iso/isolinux/isolinux.cfg <<'EOF'
SERIAL 0 115200
DEFAULT virga
PROMPT 0
TIMEOUT 1
LABEL virga
    KERNEL /boot/vmlinuz
    APPEND initrd=/boot/initrd.img console=tty0 console=ttyS0,115200 quiet
EOF
xorriso -as mkisofs -quiet -o virga-test-vm.iso -V VIRGA_TEST \
    -isohybrid-mbr debs/usr/lib/ISOLINUX/isohdpfx.bin \
    -c isolinux/boot.cat -b isolinux/isolinux.bin \
    -no-emul-boot -boot-load-size 4 -boot-info-table iso
qemu-img convert -q -f raw -O qcow2 virga-test-vm.iso virga-test-vm.qcow2

# The OCI image archive: one layer (busybox and its applet links), a
# config and a manifest, addressed by sha256 as the image-spec says.
mkdir -p rootfs/bin oci/blobs/sha256
cp "$busybox" rootfs/bin/busybox
for a in sh ls cat echo sleep httpd ip wget; do ln -s busybox "rootfs/bin/$a"; done
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C rootfs -cf - . | gzip -9n > layer.tar.gz
blob() { # blob FILE MEDIA: stores FILE as a blob; prints its descriptor
    local digest size
    digest="$(sha256sum "$1" | cut -d' ' -f1)"
    size="$(stat -c %s "$1")"
    cp "$1" "oci/blobs/sha256/$digest"
    printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$digest" "$size"
}
diff_id="sha256:$(gzip -dc layer.tar.gz | sha256sum | cut -d' ' -f1)"
layer="$(blob layer.tar.gz application/vnd.oci.image.layer.v1.tar+gzip)"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$diff_id" > config.json
config="$(blob config.json application/vnd.oci.image.config.v1+json)"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
    "$config" "$layer" > manifest.json
manifest="$(blob manifest.json application/vnd.oci.image.manifest.v1+json)"
printf '{"schemaVersion":2,"manifests":[%s]}' \
    "${manifest%\}},\"annotations\":{\"org.opencontainers.image.ref.name\":\"virga/busybox:latest\"}}" > oci/index.json
printf '{"imageLayoutVersion":"1.0.0"}' > oci/oci-layout
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C oci -cf virga-test-busybox.oci.tar .

for f in virga-test-vm.iso virga-test-vm.qcow2 vmlinuz initrd.img virga-test-busybox.oci.tar; do
    mv -f "$f" "$out/$f"
done
printf '%s' "$stamp" > "$out/.stamp"
echo "virga: test images built in $out ($kver)" >&2
