// Internal to the runtime: how the lifecycle verbs meet the host's systemd. A container is a
// systemd service (volt-hybrid@NAME.service) when the host has a system bus; without one, the
// standalone verbs (boot, stop) do everything themselves.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"
#include "runtime/store/state.hpp"
#include "units/systemd.hpp"

namespace volt::runtime {

// True when this process runs as part of the container's own unit: its ExecStart= (boot) or
// ExecStopPost= (stop), in the unit's cgroup or the .control cgroup systemd makes for the control
// processes of a unit with Delegate=yes. own_cgroup is this process's cgroup2 path, as
// /proc/self/cgroup gives it; read from there when the caller has not.
bool inside_own_unit(const Paths& paths, const std::string& name,
                     const std::optional<std::string>& own_cgroup = {});

// A connection to systemd when the host has a system bus; nullopt, and no error, when it has
// none.
Result<std::optional<units::Systemd>> connect_if_present(const Paths& paths);

// The one-line refusal of a systemd verb on a host without a system bus, with what to use instead.
Error no_system_bus(const std::string& verb, const std::string& name, const std::string& instead);

// Whether stopping the container is systemd's business: its run was started by its unit, or the
// unit is active or on its way (restarting, say), and we are not that unit's own ExecStopPost=.
// Asks systemd (one round trip) only when the recorded state does not already say so.
Result<bool> stopped_by_systemd(units::Systemd& systemd, const Paths& paths,
                                const std::string& name, const std::optional<State>& state);

// StopUnit, waiting for the job; a job result other than "done" is an error naming it.
Status stop_unit(units::Systemd& systemd, const std::string& name, bool wait);

}  // namespace volt::runtime
