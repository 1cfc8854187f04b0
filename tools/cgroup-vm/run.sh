#!/bin/sh
# The cgroup-vm test tier: boots Debian's kernel under qemu (software emulation) with a real
# cgroup2 hierarchy and its controllers, runs TEST_BINARY as the VM's test, and passes when the
# test prints "VOLT-CGROUP-VM: PASS". The recipe is ../shared/QEMU.md's.
# Usage: run.sh CACHE_DIR TEST_BINARY
# The kernel package is downloaded from the Debian mirror apt uses, unpacked (never installed)
# and cached in CACHE_DIR. Exit 77 (skip) when qemu is missing and VOLT_TESTS_MUST_RUN is not 1.
set -eu
cache=${1:?usage: run.sh CACHE_DIR TEST_BINARY}
test_bin=${2:?usage: run.sh CACHE_DIR TEST_BINARY}

lacks() {
  echo "SKIPPED: this machine lacks $1" >&2
  [ "${VOLT_TESTS_MUST_RUN:-0}" = 1 ] && { echo "VOLT_TESTS_MUST_RUN=1 forbids skipping" >&2; exit 1; }
  exit 77
}
command -v qemu-system-x86_64 >/dev/null || lacks "qemu-system-x86_64 (package qemu-system-x86)"
command -v cpio >/dev/null || lacks "cpio"
[ -x /bin/busybox ] || lacks "/bin/busybox (package busybox-static)"

mkdir -p "$cache"
kernel=$(ls "$cache"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [ -z "$kernel" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
  [ -n "$pkg" ] || { echo "run.sh: apt knows no linux-image-amd64" >&2; exit 1; }
  rm -rf "$cache/download" "$cache/kernel.tmp"
  mkdir -p "$cache/download"
  (cd "$cache/download" && apt-get download "$pkg" >/dev/null 2>&1) ||
    { echo "run.sh: apt-get download $pkg failed" >&2; exit 1; }
  dpkg -x "$cache"/download/*.deb "$cache/kernel.tmp"
  rm -rf "$cache/download"
  mv "$cache/kernel.tmp" "$cache/kernel"
  kernel=$(ls "$cache"/kernel/boot/vmlinuz-* | head -n 1)
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/volt-cgroup-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/proc" "$work/root/sys" "$work/root/dev"
cp /bin/busybox "$work/root/bin/busybox"
cp "$test_bin" "$work/root/volt-cgroup-vm-test"
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "+memory +pids +cpu +cpuset +io" > /sys/fs/cgroup/cgroup.subtree_control
echo "controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
/volt-cgroup-vm-test
echo "VOLT-CGROUP-VM: exit $?"
poweroff -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"

timeout 600 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 512 -smp 2 -nographic \
  -no-reboot -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append 'console=ttyS0 quiet panic=-1 cgroup_no_v1=all' > "$work/console.log" 2>&1 || true
# The VM's console, minus the kernel's own chatter.
grep -E '^(ok  |FAIL|controllers:|VOLT-CGROUP-VM)' "$work/console.log" || tail -n 30 "$work/console.log"
grep -q '^VOLT-CGROUP-VM: PASS' "$work/console.log"
