// What the lifecycle verbs share beyond the store: the host facts they ask about (a system bus,
// the guest's leader) and the cleanup of a run (its cgroups and runtime state).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/store/state.hpp"

namespace volt::runtime {

// Writes limits to a container's cgroup, enabling their controllers. A missing controller is an
// error ending in "; enable it, or " + hint, unless allow_missing: then the limits of the
// controllers present are written, the others named in `unenforced` and warned about.
Status write_limits(const Paths& paths, const std::string& name, const Resources& limits,
                    const std::string& cgroup_path, bool allow_missing,
                    std::vector<std::string>& unenforced, const std::string& hint);

// True when a system D-Bus socket exists (DBUS_SYSTEM_BUS_ADDRESS or the standard path).
bool system_bus_present(const Paths& paths);

// The guest's PID 1: the child of nspawn that lives in another pid namespace. 0 while nspawn
// has not started it yet.
pid_t find_leader(pid_t nspawn_pid);

// Removes what a container's run left behind once nspawn is gone: its cgroups (both
// hierarchies) and its runtime state. Kills stragglers in the cgroup first. Its fault points
// (paths.fault) are "collect:network", "collect:cgroup", … whichever verb collects.
Status collect_run(const Paths& paths, const std::string& name, const State& state);

// What the supervisor of a hand boot and the reaper of `boot --detach` do once the nspawn they
// watched, (pid, start_time), has exited: under the container's lock (waiting for it), collects
// the run if the state still records that nspawn. Nothing when stop, delete or a later boot got
// there first (no state, another nspawn, the container gone).
Status collect_exited_run(const Paths& paths, const std::string& name, pid_t pid,
                          std::uint64_t start_time);

// Removes what a run may have left without a record of it (a boot killed before it wrote its
// state, a state file damaged since): the network made for the name, and the container's
// cgroups where a boot not under its unit puts them, below the caller's cgroup and below each
// hierarchy's root (killing what runs in them first), and the runtime state directory. Fault
// points "collect by name:network", "…:cgroups", "…:state".
Status collect_by_name(const Paths& paths, const std::string& name);

// What systemd-nspawn removes when it exits, and leaves when it is killed: its lock files for
// the container's root (ROOT/containers/.#NAME.lck, and /run/systemd/nspawn/locks/inode-DEV:INO
// by the root's inode), each unless a lock is held on it (a running nspawn's), and its
// propagation directory /run/systemd/nspawn/propagate/NAME, as nspawn's own exit removes it.
// The root's inode is the directory's on disk, and also the one the run's state recorded when
// it is another (an overlay's; state may be null when there is no record). For a caller that
// knows the container's nspawn is gone.
Status collect_nspawn_leftovers(const Paths& paths, const std::string& name, const State* state);

// Removes a container's cgroup with everything below it, then its volt.slice parent if that is
// empty now (busy while other containers run).
Status remove_container_cgroup(const std::string& path);

// What the root file system's /sbin/init is, resolved inside the root (openat2 RESOLVE_IN_ROOT):
// systemd, busybox, or anything else.
InitKind detect_init(const std::string& rootfs);
InitKind detect_init(const rootfs::ContainerRoot& root);

}  // namespace volt::runtime
