#!/bin/sh
# Build a Debian bookworm root file system with systemd (minbase + systemd + dbus) for the e2e
# tests and the README's example, from the Debian mirror this machine's apt already uses. It also
# holds systemd-container and libmnl0, what volt-run's .deb depends on beyond minbase, so that the
# package test can install that .deb into a copy of it with dpkg (no apt, no network).
# Usage: make-debian-rootfs.sh DIR [PACKAGE,...]
#   DIR must not exist (built in DIR.tmp.PID, then renamed); the packages are installed as well.
# VOLT_DEBIAN_MIRROR overrides the mirror.
set -eu
out=${1:?usage: make-debian-rootfs.sh DIR [PACKAGE,...]}
extra=${2:+,$2}
[ -e "$out" ] && { echo "make-debian-rootfs: $out already exists" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "make-debian-rootfs: debootstrap is not installed" >&2; exit 1; }

mirror=${VOLT_DEBIAN_MIRROR:-}
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  # deb822: the URIs of the stanza whose Suites name bookworm.
  mirror=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /bookworm( |$)/ && u != "") { print u; exit } }' \
    /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
fi
[ -n "$mirror" ] || { echo "make-debian-rootfs: no bookworm mirror in apt's sources; set VOLT_DEBIAN_MIRROR" >&2; exit 1; }

tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
debootstrap --variant=minbase --include="systemd,dbus,systemd-container,libmnl0$extra" bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
  tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
# Every container copied from this tree must get its own machine id: leave it empty so systemd
# makes one at boot, and let D-Bus use the same one.
: > "$tmp/etc/machine-id"
rm -f "$tmp/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$tmp/var/lib/dbus/machine-id"
rm -rf "$tmp/var/cache/apt/archives/"*.deb
mv "$tmp" "$out"
trap - EXIT
