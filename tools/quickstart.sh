#!/bin/sh
# The main job, start to end, on a fresh Debian 12 machine (as root): install the dependencies,
# build volt-run, make a busybox root file system, create a container, boot it, exec into it,
# stop it and delete it. Everything volt-run writes goes under build/quickstart, not /var/lib/volt
# or /etc/systemd.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root (it installs packages and boots a container)" >&2; exit 1; }
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target volt-run

rootfs=build/rootfs-cache/busybox
[ -d "$rootfs" ] || tools/make-busybox-rootfs.sh "$rootfs"
demo=$PWD/build/quickstart
export VOLT_ROOT="$demo/root" VOLT_UNIT_DIR="$demo/units" VOLT_NSPAWN_DIR="$demo/nspawn" \
       VOLT_RUN_DIR="$demo/run"
volt=build/runtime/cli/volt-run
name=quickstart-$$
trap '$volt delete --force --time 0 "$name" >/dev/null 2>&1 || true' EXIT

set -x
$volt create "$name" --image "$PWD/$rootfs" --network none --env GREETING=hello
$volt boot --detach "$name"
$volt exec "$name" -- sh -c 'echo "$GREETING from $(hostname), PID 1 is $(cat /proc/1/comm)"'
$volt list
$volt inspect "$name" | sed -n '/^enforcement:/,$p'
$volt stop "$name"
$volt delete "$name"
set +x

trap - EXIT
