#!/bin/sh
# Boot set-up time: what `volt-run boot` does before it execs systemd-nspawn (lock, spec, state,
# the container's own cgroup, and later network and confinement), as boot itself measures it
# (-vv). Boots and stops a busybox container N times in a throw-away data root, then prints the
# median and p90. Needs root; run from the build directory's parent.
# Usage: tools/bench/boot-setup.sh BUILD_DIR [N] [extra create options...]
# The network mode is --network none unless VOLT_BENCH_NETWORK names another; with private or a
# bridge, run it under `unshare --net --mount` so that voltbr0 is made in a throwaway namespace.
set -eu
build=${1:?usage: boot-setup.sh BUILD_DIR [N] [create options...]}
n=${2:-50}
shift $(( $# >= 2 ? 2 : 1 ))
volt=$(cd "$build" && pwd)/runtime/cli/volt-run
rootfs=$(cd "$build" && pwd)/rootfs-cache/busybox
[ -d "$rootfs" ] || tools/make-busybox-rootfs.sh "$rootfs"
dir=$(mktemp -d /var/tmp/volt-boot-bench.XXXXXX)
run=$(mktemp -d /run/volt-boot-bench.XXXXXX)  # runtime state on tmpfs, as /run/volt is
export VOLT_ROOT="$dir/root" VOLT_UNIT_DIR="$dir/units" VOLT_NSPAWN_DIR="$dir/nspawn" VOLT_RUN_DIR="$run"
name=bootbench-$$
trap '"$volt" delete --force --time 0 "$name" >/dev/null 2>&1; rm -rf "$dir" "$run"' EXIT
"$volt" create "$name" --image "$rootfs" --network "${VOLT_BENCH_NETWORK:-none}" "$@" >/dev/null
: > "$dir/times"
i=0
while [ "$i" -lt "$n" ]; do
  "$volt" -vv boot --detach "$name" 2>/dev/null
  sed -n 's/.*boot set-up took \([0-9]*\) us.*/\1/p' "$VOLT_RUN_DIR/$name/console.log" >> "$dir/times"
  "$volt" stop --time 5 "$name"
  i=$((i + 1))
done
sort -n "$dir/times" | awk '{ v[NR] = $1 } END {
  printf "boot set-up over %d boots: median %d us, p90 %d us, min %d us, max %d us\n",
         NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[1], v[NR] }'
