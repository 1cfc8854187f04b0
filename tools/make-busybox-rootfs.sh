#!/bin/sh
# Build a minimal root filesystem from Debian's busybox-static: enough for
# `systemd-nspawn --boot` (busybox init as /sbin/init) and for `volt-run exec`.
# Usage: make-busybox-rootfs.sh DIR   (DIR must not exist; built in DIR.tmp, then renamed)
set -eu
out=${1:?usage: make-busybox-rootfs.sh DIR}
bb=${BUSYBOX:-/bin/busybox}
[ -e "$out" ] && { echo "make-busybox-rootfs: $out already exists" >&2; exit 1; }
case "$(file -b "$bb" 2>/dev/null || echo static)" in
  *dynamic*) echo "make-busybox-rootfs: $bb is not statically linked (install busybox-static)" >&2; exit 1 ;;
esac
tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin usr/lib etc root tmp var/log run proc sys dev
chmod 1777 tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$(dirname "$applet")"
  ln -sf /bin/busybox "$applet"
done
# nspawn --boot refuses a tree without os-release.
cat > usr/lib/os-release <<'OSR'
NAME="Volt busybox"
ID=volt-busybox
PRETTY_NAME="Volt busybox test root"
OSR
ln -s ../usr/lib/os-release etc/os-release
# busybox init: nothing to spawn; it idles as PID 1 until it is killed.
cat > etc/inittab <<'TAB'
::sysinit:/bin/hostname -F /etc/hostname
::shutdown:/bin/sync
TAB
echo volt-busybox > etc/hostname
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > etc/group
cd - >/dev/null
mv "$tmp" "$out"
trap - EXIT
