#!/usr/bin/env bash
# Builds (or reuses) a minimal Debian bookworm rootfs for the deckd VM suite.
# Prints the path of the cached rootfs directory on stdout.
# Cache: $DECKD_VM_CACHE (default /var/cache/deckd-vm), keyed by a hash of this
# script, so changing the package list or the setup below rebuilds it.
set -euo pipefail

CACHE=${DECKD_VM_CACHE:-/var/cache/deckd-vm}
MIRROR=${DECKD_VM_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
PACKAGES=(
    systemd systemd-sysv udev dbus kmod e2fsprogs
    linux-image-amd64
    nginx-light sqlite3 curl python3 procps iproute2
    # mDNS: the box publishes deckd.local; nss-mdns lets getaddrinfo resolve it.
    avahi-daemon avahi-utils libnss-mdns
)

key=$( { cat "$0"; echo "$MIRROR"; } | sha256sum | cut -c1-16)
dest=$CACHE/rootfs-$key
if [[ -f $dest/.complete ]]; then
    echo "$dest"
    exit 0
fi

if ! command -v debootstrap >/dev/null; then
    echo "rootfs: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

mkdir -p "$CACHE"
tmp=$CACHE/.build-$key-$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "rootfs: debootstrap $SUITE into $tmp (this takes a couple of minutes)" >&2
IFS=,; pkgs="${PACKAGES[*]}"; unset IFS
debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$tmp" "$MIRROR" >&2

# --- guest configuration that does not depend on deckd -----------------------
echo deckd-vm > "$tmp/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 deckd-vm\n' > "$tmp/etc/hosts"
printf '/dev/vda / ext4 rw,noatime,errors=remount-ro 0 1\n' > "$tmp/etc/fstab"
# Networking with systemd-networkd (qemu user-mode net answers DHCP).
mkdir -p "$tmp/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' > "$tmp/etc/systemd/network/10-dhcp.network"
ln -sf /lib/systemd/system/systemd-networkd.service \
    "$tmp/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
# Journal in memory only, like the appliance; no auto-login, no root password.
mkdir -p "$tmp/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=32M\n' > "$tmp/etc/systemd/journald.conf.d/volatile.conf"
# The suite talks to the guest over the serial console only through its test unit.
ln -sf /dev/null "$tmp/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$tmp/etc/systemd/system/getty@tty1.service"
ln -sf /dev/null "$tmp/etc/systemd/system/apt-daily.timer"
ln -sf /dev/null "$tmp/etc/systemd/system/apt-daily-upgrade.timer"
ln -sf /dev/null "$tmp/etc/systemd/system/e2scrub_all.timer"
ln -sf /dev/null "$tmp/etc/systemd/system/fstrim.timer"
# Kernel and initrd at stable names for the host to extract.
# shellcheck disable=SC2012  # kernel version directory names are plain
kver=$(ls "$tmp/lib/modules" | sort -V | tail -1)
cp "$tmp/boot/vmlinuz-$kver" "$tmp/.vmlinuz"
cp "$tmp/boot/initrd.img-$kver" "$tmp/.initrd"
chmod 0644 "$tmp/.vmlinuz" "$tmp/.initrd"
# Trim what a test VM never needs.
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* \
    "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/locale/*
touch "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "rootfs: built in $(( $(date +%s) - start ))s" >&2
echo "$dest"
