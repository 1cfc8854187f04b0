#!/bin/sh
# Boot set-up time: what `volt-run boot` does before it execs systemd-nspawn (lock, spec, state,
# the container's own cgroup, and later network and confinement), as boot itself measures it
# (-vv). Boots and stops a busybox container N times in a throw-away data root, then prints the
# median and p90, and each step's share (boot -vv logs when each one starts, and when each step
# of the network's build ends). Needs root; run from the build directory's parent.
# Usage: tools/bench/boot-setup.sh BUILD_DIR [N] [extra create options...]
# The network mode is --network none unless VOLT_BENCH_NETWORK names another; with private or a
# bridge, run it under `unshare --net --mount` so that voltbr0 is made in a throwaway namespace.
# VOLT_BENCH_FOREGROUND=1 boots in the foreground (volt-run supervising nspawn) instead of with
# --detach, and also reports the supervisor's fork in front of the set-up.
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
: > "$dir/forks"
: > "$dir/steps"
i=0
while [ "$i" -lt "$n" ]; do
  if [ -n "${VOLT_BENCH_FOREGROUND:-}" ]; then
    # A hand boot in the foreground: volt-run forks first and supervises nspawn.
    "$volt" -vv boot "$name" </dev/null >"$dir/boot.log" 2>&1 &
    boot=$!
    tries=0
    until "$volt" exec "$name" -- true 2>/dev/null; do
      tries=$((tries + 1)); [ "$tries" -lt 600 ] || { cat "$dir/boot.log" >&2; exit 1; }
      sleep 0.05
    done
    "$volt" stop --time 5 "$name"
    wait "$boot" || true
  else
    "$volt" -vv boot --detach "$name" 2>/dev/null
    cp "$VOLT_RUN_DIR/$name/console.log" "$dir/boot.log"
    "$volt" stop --time 5 "$name"
  fi
  sed -n 's/.*boot set-up took \([0-9]*\) us.*/\1/p' "$dir/boot.log" >> "$dir/times"
  sed -n 's/.*supervisor: forked in \([0-9]*\) us.*/\1/p' "$dir/boot.log" >> "$dir/forks"
  # Each step's share, "US<TAB>STEP", from the marks boot -vv logs on its own clock: "step STEP
  # at N us" as each step of boot starts, "network: STEP done at N us" as each step of the
  # network's build ends, and "boot set-up took N us" at the end. A span ending at a network mark
  # is that network step; any other is the step that started it; the first, up to the first step,
  # is what boot reads and decides before it makes anything.
  sed -n 's/.*volt-run: step \(.*\) at \([0-9]*\) us$/\2\tS\t\1/p
          s/.*volt-run: network: \(.*\) done at \([0-9]*\) us$/\2\tN\tnetwork: \1/p
          s/.*boot set-up took \([0-9]*\) us.*/\1\tE\t/p' "$dir/boot.log" |
    awk -F '\t' '
      ended { next }
      { span = $1 - last
        if ($2 == "N") what = $3
        else if (prev_kind == "S") what = prev
        else if (NR == 1) what = "(reading and planning, before the first step)"
        else what = "(after " prev ")"
        printf "%d\t%s\n", span, what
        last = $1; prev = $3; prev_kind = $2
        if ($2 == "E") ended = 1 }' >> "$dir/steps"
  i=$((i + 1))
done
summary() {
  sort -n "$2" | awk -v what="$1" '{ v[NR] = $1 } END { if (NR)
    printf "%s over %d boots: median %d us, p90 %d us, min %d us, max %d us\n",
           what, NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)], v[1], v[NR] }'
}
summary "boot set-up" "$dir/times"
summary "supervisor fork (foreground)" "$dir/forks"
# One line per step, in the order boot runs them.
cut -f2 "$dir/steps" | awk '!seen[$0]++' | while IFS= read -r step; do
  awk -F '\t' -v s="$step" '$2 == s { print $1 }' "$dir/steps" > "$dir/one"
  summary "  $step" "$dir/one"
done
