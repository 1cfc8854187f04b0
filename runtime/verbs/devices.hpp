// A container's device policy, from its spec: the default allow-list (cgroup/devices.hpp) plus
// its --device nodes, as rules for the eBPF program and the v1 controller, and as the unit's
// DeviceAllow= lines. README's "Device policy" says what is allowed and why.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "cgroup/devices.hpp"
#include "runtime/plan/spec.hpp"

namespace volt::runtime {

// The rules binding the container: default_devices() then each --device node with its access.
// The nodes are stat'ed now (at boot), so their numbers are the host's current ones; a node gone
// since create is a usage error naming it.
Result<std::vector<cgroup::DeviceRule>> device_rules(const Spec& spec);

// Pure: the values of the unit's DeviceAllow= lines ("/dev/null rwm", "char-pts rw"), the same
// list by the names systemd resolves (paths, and char-NAME of /proc/devices).
std::vector<std::string> unit_device_allow(const Spec& spec);

}  // namespace volt::runtime
