// `volt-run check`: what this host offers volt-run, probed without changing anything.
#pragma once

#include <string>
#include <vector>

#include "runtime/plan/paths.hpp"

namespace volt::runtime {

struct HostCheck {
    int landlock_abi = 0;          // 0: no Landlock
    bool seccomp = false;          // seccomp filters can be installed
    bool user_namespaces = false;  // user.max_user_namespaces > 0
    std::string cgroup2;           // the cgroup2 mount, or empty
    std::vector<std::string> cgroup2_controllers;
    // "unified" (cgroup2 only), "hybrid" (cgroup2 beside v1 controllers and a v1 name=systemd
    // hierarchy) or "legacy" (no cgroup2: volt-run cannot run containers)
    std::string cgroup_layout;
    bool nspawn = false;  // systemd-nspawn is installed
    bool system_bus = false;
    std::string nftables_error;  // empty: nftables answers (NAT and --port work)
    bool ip_forward = false;     // net.ipv4.ip_forward is on now (boot turns it on otherwise)
    // --rootfs overlay: empty when overlayfs takes layers as fds; what failed otherwise.
    std::string overlay_error;
    // Empty when a directory of the data root's file system can be id-mapped (an overlay's lower
    // layer, for a container with a user namespace); what failed otherwise.
    std::string idmap_error;
};

HostCheck check_host(const Paths& paths);

// Whether this host can enforce a group of create's options, and why (not).
struct Enforceable {
    std::string options;  // "--memory, --memory-high, --memory-swap"
    bool enforced = false;
    std::string how;  // what enforces them, or what is missing
};
// Pure: what of create's options a host with these facts enforces.
std::vector<Enforceable> enforceable_options(const HostCheck& h);

}  // namespace volt::runtime
