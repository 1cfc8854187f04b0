#!/bin/sh
# The .deb that `cpack` builds installs into a scratch Debian 12 root with dpkg, which refuses it
# if its Depends: are not met there, and its volt-run runs there: --version, check, and the files
# it put in their FHS places. The scratch root is an overlay on the bookworm test root (left as it
# is), in a mount namespace of its own, so nothing of it outlives the test.
# Usage: run.sh BUILD_DIR BOOKWORM_ROOT
set -eu
build=${1:?usage: run.sh BUILD_DIR BOOKWORM_ROOT}
base=${2:?usage: run.sh BUILD_DIR BOOKWORM_ROOT}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (overlay mount, chroot, dpkg)"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is not installed (dpkg-dev)"
command -v file >/dev/null || skip "file is not installed (CPack reads binaries with it)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlay file system"
[ -x "$base/usr/bin/dpkg" ] || { echo "FAIL: $base is not a Debian root"; exit 1; }

work=$(mktemp -d /var/tmp/volt-package.XXXXXX)
trap 'rm -rf "$work"' EXIT
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$work"/out/volt-run_*.deb)
echo "package: $(basename "$deb")"
dpkg-deb -f "$deb" Package Version Architecture Depends Recommends
# Every shared library the binary needs must come from a package in Depends: (dpkg-shlibdeps).
dpkg-deb -f "$deb" Depends | grep -q 'libc6' || { echo "FAIL: Depends: lacks libc6"; exit 1; }
dpkg-deb -f "$deb" Depends | grep -q 'systemd-container' ||
  { echo "FAIL: Depends: lacks systemd-container (systemd-nspawn)"; exit 1; }

mkdir "$work/upper" "$work/lower-work" "$work/root"
cp "$deb" "$work/volt-run.deb"
# In a mount namespace of its own: the overlay, /proc and /dev go away with it.
unshare -m --propagation private sh -eu -c '
  work=$1 base=$2
  mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/lower-work" "$work/root"
  root=$work/root
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  cp "$work/volt-run.deb" "$root/tmp/volt-run.deb"
  chroot "$root" dpkg -i /tmp/volt-run.deb
  chroot "$root" dpkg -s volt-run | grep -q "^Status: install ok installed"
  chroot "$root" volt-run --version
  chroot "$root" volt-run check
  # image import: a directory needs nothing more; an archive needs libarchive13, only Recommended
  # (loaded with dlopen), and without it fails in one line naming the package.
  mkdir -p "$root/tmp/img/etc" && echo image > "$root/tmp/img/etc/hostname"
  chroot "$root" volt-run --root /tmp/vr image import /tmp/img dirimage
  chroot "$root" volt-run --root /tmp/vr image list | grep -q "^dirimage " || { echo "FAIL: image list lacks dirimage"; exit 1; }
  if [ ! -e "$root/usr/lib/x86_64-linux-gnu/libarchive.so.13" ]; then
    printf "no archive" > "$root/tmp/x.tar"
    err=$(chroot "$root" volt-run --root /tmp/vr image import /tmp/x.tar tarimage 2>&1) && { echo "FAIL: an archive import without libarchive13 succeeded"; exit 1; }
    echo "$err" | grep -q "libarchive13" || { echo "FAIL: without libarchive13, image import says: $err"; exit 1; }
  fi
  chroot "$root" volt-run --root /tmp/vr image rm dirimage
  for f in /usr/bin/volt-run /usr/share/man/man1/volt-run.1.gz /usr/share/man/man1/volt-run-exec.1.gz \
           /usr/share/bash-completion/completions/volt-run; do
    [ -f "$root$f" ] || { echo "FAIL: the package did not install $f"; exit 1; }
  done
  # Depends: names the package of every shared library the binary loads.
  depends=$(chroot "$root" dpkg-query -W -f "\${Depends}" volt-run)
  for lib in $(chroot "$root" ldd /usr/bin/volt-run | awk "\$3 ~ /^\// { print \$3 }"); do
    pkg=$(chroot "$root" dpkg -S "$(readlink -f "$root$lib" | sed "s|^$root||")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || pkg=$(chroot "$root" dpkg -S "$lib" | head -1 | cut -d: -f1)
    echo "$depends" | grep -q "\b$pkg\b" || { echo "FAIL: volt-run loads $lib of $pkg, which Depends: ($depends) lacks"; exit 1; }
  done
  file -L "$root/usr/bin/volt-run" | grep -q ", stripped" || { echo "FAIL: /usr/bin/volt-run is not stripped"; exit 1; }
  zcat "$root/usr/share/man/man1/volt-run-exec.1.gz" | grep -q "^\.TH" || { echo "FAIL: volt-run-exec.1 is not a man page"; exit 1; }
  chroot "$root" dpkg -r volt-run >/dev/null
  [ ! -e "$root/usr/bin/volt-run" ] || { echo "FAIL: dpkg -r left /usr/bin/volt-run"; exit 1; }
' sh "$work" "$base"
echo "the package installs, runs and removes cleanly"
