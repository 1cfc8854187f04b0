#!/bin/sh
# Installs everything volt-run needs to build, test and boot containers on Debian 12.
# Used by .ci/run and tools/quickstart.sh; needs root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  g++ make cmake pkg-config clang-format go-md2man dpkg-dev file \
  libseccomp-dev libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev libsystemd-dev \
  libcli11-dev nlohmann-json3-dev catch2 libarchive-dev \
  systemd systemd-container util-linux iproute2 nftables \
  busybox-static debootstrap ca-certificates golang-github-containers-common \
  qemu-system-x86 cpio
