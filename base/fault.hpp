// Fault injection, for tests only. Every numbered step of the lifecycle verbs (create, boot and
// each step of its network, stop, delete, update) is a named point, "VERB:STEP" ("boot:cgroup",
// "boot:network:veth", "delete:rootfs"), and passes through a hook before the step runs. In
// production there is no hook and a point costs one test of an empty std::function.
//
// The CLI builds the hook from the environment (VOLT_FAULT, VOLT_FAULT_TRACE, see the README):
// kill_at() appends every point passed to a trace file and SIGKILLs the process at one of them,
// which is how the crash-consistency tests stop volt-run at every step in turn. In-process tests
// pass a hook that returns an error instead: the step then fails, and what ran before is undone.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace volt::fault {

// Called with a point's name before the step runs; an error it returns fails that step.
using Hook = std::function<Status(std::string_view point)>;

// Passes point through hook (nothing without one).
inline Status at(const Hook& hook, std::string_view point) {
    return hook ? hook(point) : Status();
}

// A hook that passes prefix + point to hook (empty without one): a verb names its points, and
// the steps of a part it runs (the network of a boot) get the verb's prefix.
Hook prefixed(const Hook& hook, std::string prefix);

// The CLI's hook, empty when both arguments are: each point passed is appended as one line to
// trace_file (when given; opened with O_APPEND for each point, so the lines of a forked child
// land in order between its parent's), then the process kills itself with SIGKILL at kill_point
// (when given): no destructor, undo or exit handler runs, as in a crash.
Hook kill_at(std::string kill_point, std::string trace_file);

}  // namespace volt::fault
