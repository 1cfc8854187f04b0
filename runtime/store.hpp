// Internal to the runtime: the container lock, loading the spec, and the host facts the
// lifecycle verbs share.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "runtime/paths.hpp"
#include "runtime/spec.hpp"
#include "runtime/state.hpp"

namespace volt::runtime {

// The per-container lock (ROOT/config/NAME/lock). Acquiring it re-checks that the lock file is
// still the one in the directory, so a waiter that wakes after a concurrent delete sees that the
// container is gone instead of locking a removed file.
Result<fs::FileLock> lock_container(const Paths& paths, const std::string& name);

// The spec of an existing container; a usage error naming it when there is none.
Result<Spec> load_spec(const Paths& paths, const std::string& name);

// A spec read back is checked again where boot makes it mounts and nspawn settings: a spec edited
// (or planted) in the data root must not bind over /proc, carry a line break into nspawn's
// settings, or bind a volume source that has become a symlink since create (check_volume_source).
// Not part of load_spec, so that delete still removes a container whose spec fails it.
Status check_stored_spec(const Spec& spec);

// The container's lock, held, and its spec: how every verb that changes a container begins.
struct Locked {
    fs::FileLock lock;
    Spec spec;
};
Result<Locked> lock_and_load(const Paths& paths, const std::string& name);

// Writes limits to a container's cgroup, enabling their controllers. A missing controller is an
// error ending in "; enable it, or " + hint, unless allow_missing: then the limits of the
// controllers present are written, the others named in `unenforced` and warned about.
Status write_limits(const Paths& paths, const std::string& name, const Resources& limits,
                    const std::string& cgroup_path, bool allow_missing,
                    std::vector<std::string>& unenforced, const std::string& hint);

// True when a system D-Bus socket exists (DBUS_SYSTEM_BUS_ADDRESS or the standard path).
bool system_bus_present();

// The guest's PID 1: the child of nspawn that lives in another pid namespace. 0 while nspawn
// has not started it yet.
pid_t find_leader(pid_t nspawn_pid);

// Removes what a container's run left behind once nspawn is gone: its cgroups (both
// hierarchies) and its runtime state. Kills stragglers in the cgroup first.
Status collect_run(const Paths& paths, const std::string& name, const State& state);

// Removes a container's cgroup with everything below it, then its volt.slice parent if that is
// empty now (busy while other containers run).
Status remove_container_cgroup(const std::string& path);

}  // namespace volt::runtime
