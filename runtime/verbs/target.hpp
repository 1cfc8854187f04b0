// A running container as the verbs that act inside it (exec, cp) find it: its init pinned by a
// pidfd, proven not to be a recycled pid.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/store/state.hpp"

namespace volt::runtime {

// The running container's init, pinned by a pidfd, and the cgroups its commands join.
struct Target {
    pid_t leader = 0;
    UniqueFd leader_fd;
    std::string payload;       // cgroup2 directory
    ExecConfinement recorded;  // what boot worked out for exec; empty when not known
};

// From volt-run's runtime state, or when there is none and a system bus is, from machined. The
// leader's pidfd is opened first, then checked (nspawn's child, or in the container's unit and
// alive after its cgroup was read). nullopt when the container is not running; errors when it
// is stopping (ESRCH), has not started its init yet (EAGAIN), or is paused (usage).
Result<std::optional<Target>> running_target(const Paths& paths, const std::string& name);

// The same, with "container NAME is not running" (usage) for nullopt.
Result<Target> find_target(const Paths& paths, const std::string& name);

}  // namespace volt::runtime
