#!/bin/sh
# Network set-up of one container: volt-run's in-process code (volt-net-bench) against the same
# steps done with `ip` commands, side by side in one run, inside a throwaway network and mount
# namespace (nothing touches the machine's network). Needs root and a build of volt-net-bench.
#   tools/bench/net-setup.sh [BUILD_DIR] [ITERATIONS]
set -eu
build=${1:-build}
n=${2:-200}
bench=$(realpath "$build/tools/bench/volt-net-bench")
if [ "${VOLT_NET_BENCH_INSIDE:-}" != 1 ]; then
  VOLT_NET_BENCH_INSIDE=1 exec unshare --net --mount --propagation private -- "$0" "$@"
fi
ip link set lo up
dir=$(mktemp -d /var/tmp/volt-net-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mount -t tmpfs tmpfs /run  # `ip netns` keeps its namespaces here; ours only in this namespace

"$bench" "$dir" "$n" fresh
"$bench" "$dir" "$n"
ip link del voltbr0

# The same links, addresses and routes with ip(8), one process per step; no nftables.
ms() { date +%s%N; }
times=$dir/ip-times
: > "$times"
for fresh in yes no; do
  : > "$times"
  [ $fresh = no ] && { ip link add voltbr0 up type bridge; ip addr add 10.88.0.1/16 dev voltbr0; }
  i=0
  while [ $i -lt "$n" ]; do
    t0=$(ms)
    if [ $fresh = yes ]; then
      ip link add voltbr0 up type bridge
      ip addr add 10.88.0.1/16 dev voltbr0
    fi
    ip netns add bench
    ip link add ve-bench master voltbr0 up type veth peer name host0 netns bench
    ip -n bench link set lo up
    ip -n bench link set host0 up
    ip -n bench addr add 10.88.0.2/16 dev host0
    ip -n bench route add default via 10.88.0.1
    t1=$(ms)
    echo $(( (t1 - t0) / 1000 )) >> "$times"
    ip link del ve-bench
    ip netns del bench
    [ $fresh = yes ] && ip link del voltbr0
    i=$((i + 1))
  done
  steps=6; [ $fresh = yes ] && steps=8
  sort -n "$times" | awk -v what="ip(8), $steps commands ($( [ $fresh = yes ] && echo new || echo existing) bridge)" '
    { v[NR] = $1 } END { printf "%-34s median %6d us  p90 %6d us  min %6d us  (n=%d)\n",
      what, v[int(NR/2)+1], v[int(NR*0.9)], v[1], NR }'
  [ $fresh = no ] && ip link del voltbr0
done
