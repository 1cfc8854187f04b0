#!/bin/sh
# The systemd-host test tier: boots a "host" container H whose PID 1 is systemd (with machined and
# journald), with volt-run installed in it, and runs TEST_BINARY inside H as a systemd service of
# H's own, so that it has H's capabilities and cgroup. The recipe is ../shared/E2E.md's.
# Usage: run.sh CACHE_DIR GUEST_ROOTFS VOLT_RUN TEST_BINARY SOURCE_DIR
#   CACHE_DIR     H's image is debootstrapped here once (tools/make-debian-rootfs.sh) and reused
#   GUEST_ROOTFS  the systemd root file system the nested containers are created from
# Exit 77 (skip) when a facility is missing and VOLT_TESTS_MUST_RUN is not 1.
set -eu
cache=${1:?usage: run.sh CACHE_DIR GUEST_ROOTFS VOLT_RUN TEST_BINARY SOURCE_DIR}
guest=${2:?}
volt_run=${3:?}
test_bin=${4:?}
src=${5:?}
shift 5  # the rest goes to the test binary (a Catch2 test spec, say)

lacks() {
  echo "SKIPPED: this machine lacks $1" >&2
  [ "${VOLT_TESTS_MUST_RUN:-0}" = 1 ] && { echo "VOLT_TESTS_MUST_RUN=1 forbids skipping" >&2; exit 1; }
  exit 77
}
[ "$(id -u)" = 0 ] || lacks "root"
command -v systemd-nspawn >/dev/null || lacks "systemd-nspawn (package systemd-container)"
command -v nsenter >/dev/null || lacks "nsenter (package util-linux)"
[ -d "$guest" ] || { echo "run.sh: no guest root file system at $guest" >&2; exit 1; }

mkdir -p "$cache"
host_image="$cache/host"
if [ ! -d "$host_image" ]; then
  echo "building the host image (debootstrap, about a minute) in $host_image"
  "$src/tools/make-debian-rootfs.sh" "$host_image" systemd-container,iproute2,libmnl0,libseccomp2
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/volt-systemd-host.XXXXXX")
nspawn_pid=
cgroups=
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid"  # an orderly halt of H
    i=0
    while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid"
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  for cg in $cgroups; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# H's own copy, with a machine id of its own.
cp -a --reflink=auto "$host_image" "$work/h"
tr -d '-' < /proc/sys/kernel/random/uuid > "$work/h/etc/machine-id"
mkdir -p "$work/h/var/lib/volt/images/bookworm" "$work/h$src"

# nspawn with --keep-unit makes its payload/ and supervisor/ below the cgroup it starts in: H's
# nspawn gets one of its own in each hierarchy.
name="volt-systemd-host-$$"
for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
  if [ -f "$h/cgroup.procs" ] && [ ! -d "$h/unified" ]; then
    mkdir "$h/$name"
    cgroups="$cgroups $h/$name"
  fi
done
# SYSTEMD_SECCOMP=0: H stands for a real host, where volt-run boot loads and attaches the
# container's eBPF device program. nspawn's own filter refuses bpf() to any guest, H included.
sh -c 'for cg in $1; do echo $$ > "$cg/cgroup.procs"; done; shift; exec "$@"' sh "$cgroups" \
  env SYSTEMD_SECCOMP=0 systemd-nspawn -D "$work/h" -M volthost --register=no --keep-unit --boot --private-network \
  --bind-ro="$volt_run:/usr/local/bin/volt-run" \
  --bind-ro="$test_bin:/usr/local/bin/volt-systemd-host-tests" \
  --bind-ro="$guest:/var/lib/volt/images/bookworm" \
  --bind-ro="$src" \
  < /dev/null > "$work/console.log" 2>&1 &
nspawn_pid=$!

# H's PID 1: nspawn's child whose comm is systemd.
leader=
i=0
while [ -z "$leader" ] && [ $i -lt 300 ]; do
  for c in $(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null); do
    [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && leader=$c
  done
  [ -n "$leader" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$leader" ] || { echo "run.sh: H did not start systemd" >&2; tail -20 "$work/console.log" >&2; exit 1; }
state=
i=0
while [ $i -lt 600 ]; do
  state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.1
  i=$((i + 1))
done
case "$state" in
  running|degraded) echo "host container up ($state) after $((i / 10)).$((i % 10)) s" ;;
  *) echo "run.sh: H's systemd did not finish booting (state: $state)" >&2
     tail -20 "$work/console.log" >&2; exit 1 ;;
esac

rc=0
nsenter -t "$leader" -a systemd-run --wait --pipe --collect --quiet \
  --setenv=VOLT_TESTS_MUST_RUN="${VOLT_TESTS_MUST_RUN:-0}" \
  /usr/local/bin/volt-systemd-host-tests "$@" || rc=$?
if [ $rc -ne 0 ]; then
  echo "--- H's journal, last lines:"
  nsenter -t "$leader" -a journalctl --no-pager -n 60 || true
fi
exit $rc
