#!/bin/sh
# Scale: boot set-up and exec latency of one busybox container with a private network while 1,
# then MANY other such containers run, in one run, inside a throwaway network and mount namespace
# (voltbr0, the nftables table and every link exist only there). What it shows: whether the cost
# of a boot or an exec grows with the number of containers on the host.
#
#   tools/bench/scale.sh BUILD_DIR [MANY] [N]      (default MANY 100, N 20)
#
# For each count (1, then MANY) it boots that many background containers (--detach, eight at a
# time), then N times: boots the probe container with -vv --detach and takes boot's own "boot
# set-up took N us" line (as tools/bench/boot-setup.sh does), times 10 `exec probe -- /bin/true`
# (wall time of each, from spawn to reaped exit, in a Python loop), and stops the probe. Prints the
# median and p90 of both per count. Needs root; run from the source tree. VOLT_BENCH_PREFIX
# (default "scale") prefixes the scratch directory and the container names.
set -eu
build=${1:?usage: scale.sh BUILD_DIR [MANY] [N]}
many=${2:-100}
n=${3:-20}
if [ "${VOLT_SCALE_INSIDE:-}" != 1 ]; then
  VOLT_SCALE_INSIDE=1 exec unshare --net --mount --propagation private -- "$0" "$@"
fi
volt=$(cd "$build" && pwd)/runtime/cli/volt-run
rootfs=$(cd "$build" && pwd)/rootfs-cache/busybox
[ -d "$rootfs" ] || tools/make-busybox-rootfs.sh "$rootfs"
prefix=${VOLT_BENCH_PREFIX:-scale}
ip link set lo up
dir=$(mktemp -d "/var/tmp/$prefix-bench.XXXXXX")
mkdir "$dir/run"
mount -t tmpfs tmpfs "$dir/run"  # runtime state on tmpfs, as /run/volt is; gone with the namespace
export VOLT_ROOT="$dir/root" VOLT_UNIT_DIR="$dir/units" VOLT_NSPAWN_DIR="$dir/nspawn" \
  VOLT_RUN_DIR="$dir/run"
probe=$prefix-probe
cleanup() {
  for c in "$probe" $(seq -f "$prefix-bg-%g" 1 "$many"); do
    "$volt" delete --force --time 0 "$c" >/dev/null 2>&1 || true
  done
  umount -l "$dir/run" 2>/dev/null || true  # lazily: namespace mounts of crashed runs may sit below
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$volt" create "$probe" --image "$rootfs" --network private >/dev/null
# Created up front, so that the lease file holds every name in both rounds.
for i in $(seq 1 "$many"); do
  "$volt" create "$prefix-bg-$i" --image "$rootfs" --network private >/dev/null
done

running=0
boot_upto() {  # boots background containers until $1 run, eight at a time
  while [ "$running" -lt "$1" ]; do
    batch=0
    while [ "$running" -lt "$1" ] && [ "$batch" -lt 8 ]; do
      running=$((running + 1)); batch=$((batch + 1))
      "$volt" boot --detach --timeout 120 "$prefix-bg-$running" >/dev/null &
    done
    wait
  done
}

summary() {
  sort -n "$2" | awk -v what="$1" '{ v[NR] = $1 } END { if (NR)
    printf "%s over %d: median %d us, p90 %d us, min %d us, max %d us\n",
           what, NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[1], v[NR] }'
}

for count in 1 "$many"; do
  boot_upto "$count"
  : > "$dir/setup"
  : > "$dir/exec"
  i=0
  while [ "$i" -lt "$n" ]; do
    "$volt" -vv boot --detach "$probe" 2>/dev/null
    sed -n 's/.*boot set-up took \([0-9]*\) us.*/\1/p' "$VOLT_RUN_DIR/$probe/console.log" \
      >> "$dir/setup"
    python3 - "$volt" "$probe" >> "$dir/exec" <<'EOF'
import subprocess, sys, time
for _ in range(10):
    start = time.perf_counter_ns()
    subprocess.run([sys.argv[1], "exec", sys.argv[2], "--", "/bin/true"], check=True)
    print((time.perf_counter_ns() - start) // 1000)
EOF
    "$volt" stop --time 1 "$probe"
    i=$((i + 1))
  done
  echo "with $count other containers running ($(ip -o link show master voltbr0 | wc -l) veths on voltbr0, $(nft -a list table ip volt 2>/dev/null | grep -c 'comment') rules):"
  summary "  boot set-up" "$dir/setup"
  summary "  exec /bin/true" "$dir/exec"
done
