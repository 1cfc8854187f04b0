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
    bool nspawn = false;  // systemd-nspawn is installed
    bool system_bus = false;
};

HostCheck check_host(const Paths& paths);

}  // namespace volt::runtime
