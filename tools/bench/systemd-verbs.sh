#!/bin/sh
# volt-run's systemd verbs against systemctl doing the same job, under a real systemd. Run it
# inside the systemd-host tier's host container, in place of the test binary:
#   tests/systemd-host/run.sh build/systemd-host-cache build/rootfs-cache/bookworm-systemd \
#     build/runtime/cli/volt-run tools/bench/systemd-verbs.sh "$PWD" [ROUNDS]
# Prints the median wall time in ms of: status (50 each, alternating), and start to READY plus
# stop (ROUNDS each, default 5, alternating).
set -eu
rounds=${1:-5}
v=/usr/local/bin/volt-run
unit=volt-hybrid@bench.service

now_us() { echo $(($(date +%s%N) / 1000)); }
# Runs "$@" and appends its wall time in µs to the file $out.
timed() { t0=$(now_us); "$@" >/dev/null; echo $(($(now_us) - t0)) >> "$out"; }
median_ms() { sort -n "$1" | awk '{ a[NR] = $1 } END { m = a[int((NR + 1) / 2)]; printf "%.1f", m / 1000 }'; }

work=$(mktemp -d)
trap '$v delete --force bench >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
$v create bench --image /var/lib/volt/images/bookworm --network none >/dev/null

$v start bench
for i in $(seq 50); do
  out=$work/status.volt timed $v status bench
  out=$work/status.systemctl timed systemctl show -p ActiveState,SubState,MainPID,UnitFileState "$unit"
done
$v stop bench
for i in $(seq "$rounds"); do
  out=$work/start.volt timed $v start bench
  out=$work/stop.volt timed $v stop bench
  out=$work/start.systemctl timed systemctl start "$unit"
  out=$work/stop.systemctl timed systemctl stop "$unit"
done
printf '%-28s %10s %10s\n' "median, ms" volt-run systemctl
for what in status start stop; do
  printf '%-28s %10s %10s\n' "$what" "$(median_ms "$work/$what.volt")" "$(median_ms "$work/$what.systemctl")"
done
