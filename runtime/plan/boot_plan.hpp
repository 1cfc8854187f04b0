// What `boot` will do, as a value: a pure function of the spec and the facts boot gathered from
// the host (placement, policy, devices, bus). The verb (runtime/verbs/boot.cpp) only carries the
// plan out, step by step with base/steps.hpp, so what a boot does can be read, rendered and
// tested without booting anything.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cgroup/devices.hpp"
#include "cgroup/limits.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"

namespace volt::runtime {

// What boot found out before planning; gathering it changes nothing on the host.
struct BootFacts {
    // The caller's cgroup relative to each hierarchy's mount ("/user.slice/…"), the cgroup2 one
    // always, the v1 name=systemd and devices ones on hybrid hosts (else empty).
    std::string self_unified, self_v1, self_devices;
    // Those hierarchies' mounts; empty when the host has none.
    std::string mount_unified, mount_v1, mount_devices;
    bool system_bus = false;
    bool invoked_by_systemd = false;  // INVOCATION_ID is set: a unit's ExecStart= runs boot
    // The container's Landlock policy (nullopt: --landlock none) and the ABI of this kernel.
    std::optional<landlock::Policy> landlock_policy;
    int landlock_abi = 0;
    // The device rules: the defaults, then the --device nodes with their current numbers.
    std::vector<cgroup::DeviceRule> devices;
};

// Where the container's cgroups go in each hierarchy, and where the caller was.
struct Placement {
    std::string unified;  // the container's own cgroup (absolute path)
    std::string v1;       // its twin in name=systemd, or empty
    std::string devices;  // the v1 devices policy cgroup, or empty (nspawn joins devices/payload)
    bool under_systemd = false;
    std::string origin_unified, origin_v1, origin_devices;
};

struct BootPlan {
    Placement placement;
    std::vector<cgroup::Setting> limits;  // written to placement.unified
    bool missing_controllers_ok = false;
    std::vector<cgroup::DeviceRule> devices;
    bool builds_network = false;
    landlock::Plan landlock;       // the boot part: network and scopes
    landlock::Plan exec_landlock;  // the exec part, recorded in the state for exec
    std::string seccomp;           // the profile binding nspawn and the guest, or "unconfined"
    std::vector<std::string> nspawn_argv;  // argv[0] included
    std::vector<std::string> warnings;     // options stored but not applied, one line each
};

// Whether a process in cgroup self_unified (its cgroup2 path) runs as part of the container's
// own unit: volt-hybrid@NAME.service, or the .control cgroup systemd makes for the control
// processes of a unit with Delegate=yes. invocation_id: INVOCATION_ID is set.
bool in_own_unit(const std::string& name, bool invocation_id, const std::string& self_unified);

// Pure. One warning for every option of the spec that is stored but not applied (--kernel): what
// create, boot and boot --detach print.
std::vector<std::string> unapplied_options(const Spec& spec);

// Pure. A Landlock policy that cannot be fully enforced under LandlockMode::require is an error
// naming what is missing, before anything is made.
Result<BootPlan> plan_boot(const Spec& spec, const Paths& paths, const BootFacts& facts);

// The plan as text, one fact per line, for golden tests and `boot -vv`.
std::string render(const BootPlan& plan);

}  // namespace volt::runtime
