// volt-run bench --compare: the pure parts of the two peers that need more than a command line,
// bare systemd-nspawn --boot (its argv, and the READY=1 it forwards to bench's notify socket) and
// crun (the OCI config.json of its container). runtime/verbs/bench_peers.cpp runs them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/plan/spec.hpp"

namespace volt::runtime {

// What a user types to boot a container's copy of the image with bare nspawn and get what
// volt-run gives: a boot, READY forwarded (--notify-ready=yes for a systemd guest; for another
// init nspawn reports READY itself once init runs, as volt-run's boot has it), a network of its
// own, the same --private-users choice, and no machined registration where volt-run has none.
struct BareNspawnPlan {
    std::string nspawn;   // the program
    std::string root;     // --directory
    std::string machine;  // --machine
    InitKind init = InitKind::other;
    bool private_users = true;
    bool private_network = true;  // --network-veth; false: --private-network (loopback only)
    bool system_bus = false;      // register with machined as volt-run does on such a host
};
std::vector<std::string> bare_nspawn_argv(const BareNspawnPlan& plan);

// Whether one datagram of the sd_notify protocol ("KEY=VALUE" lines) says READY=1.
bool notify_says_ready(std::string_view datagram);

// The crun container bench execs into: a long-running process (args) in a read-only root, in
// pid, network, ipc, uts, mount and cgroup namespaces of its own, in the cgroup cgroups_path.
struct CrunBundlePlan {
    std::string rootfs;  // absolute
    std::string hostname;
    std::string cgroups_path;  // relative to the cgroup2 root, "/a/b"
    std::vector<std::string> args;
};
// config.json (OCI runtime spec 1.0), as text. No linux.resources: crun loads a device program
// only with resources, and its loader raises RLIMIT_MEMLOCK first, which needs CAP_SYS_RESOURCE.
std::string crun_config(const CrunBundlePlan& plan);

}  // namespace volt::runtime
