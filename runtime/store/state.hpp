// Runtime state of a booted container, written by `boot` just before it becomes
// systemd-nspawn, and removed by `stop`. Kept apart from the immutable spec.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/paths.hpp"

namespace volt::runtime {

// The network boot built for a container with --network private or a bridge; empty otherwise.
struct NetworkState {
    std::string bridge;
    std::string netns;             // path of the persistent network namespace
    std::string host_ifname;       // the host end of the veth pair, on the bridge
    std::string container_ifname;  // its peer, inside the container
    std::string mac;               // of the container's interface
    std::string address;           // the container's, leased
    int prefix = 0;
    std::string gateway;
    std::vector<std::string> dns;
    std::vector<std::string> ports;  // forwarded, as "tcp:8080:80"

    bool empty() const { return bridge.empty(); }
    bool operator==(const NetworkState&) const = default;
};

// What `exec` needs of the container's confinement, worked out once by boot so that exec reads
// no policy text and hashes no profile. Empty (not recorded) in a state written by an older boot.
struct ExecConfinement {
    std::string landlock_policy;  // the spec's policy name; empty: nothing recorded
    landlock::Plan landlock;      // its exec part, for the running kernel
    std::string seccomp_profile;  // the spec's profile name
    std::string seccomp_digest;   // seccomp::profile_digest of its text; empty for unconfined
    // Whether its filter lets other architectures' calls through (seccomp::Bpf::foreign_arches).
    // True when not recorded: exec then restricts every architecture itself.
    bool seccomp_foreign_arches = true;
    bool recorded() const { return !landlock_policy.empty(); }
    bool operator==(const ExecConfinement&) const = default;
};

struct State {
    pid_t nspawn_pid = 0;
    std::uint64_t nspawn_start_time = 0;  // with the pid, names the process across pid reuse
    std::string cgroup;     // the container's own cgroup in the cgroup2 hierarchy (absolute path)
    std::string cgroup_v1;  // its twin in the v1 name=systemd hierarchy on hybrid hosts, or empty
    // Its cgroup in the v1 devices hierarchy on hybrid hosts (the device policy), or empty.
    std::string cgroup_devices;
    bool under_systemd = false;  // booted by its unit; the cgroups are inside the unit's
    std::string started;         // UTC, RFC 3339
    // Controllers of requested limits that were missing (booted with --missing-controllers
    // ignore): those limits are not enforced.
    std::vector<std::string> unenforced_controllers;
    NetworkState network;
    ExecConfinement exec;
    // The device and inode of the root nspawn was given, when that is not ROOT/containers/NAME's
    // own directory (an overlay container: its mount's root, whose device number is the
    // mount's). nspawn names its lock file /run/systemd/nspawn/locks/inode-DEV:INO by them, and a
    // killed nspawn leaves it; nothing on disk knows them once the mount is gone.
    std::uint64_t root_dev = 0;
    std::uint64_t root_ino = 0;
    // Not stored: `cgroup` relative to the cgroup2 mount, set by read_state once it has checked
    // that `cgroup` is the container's own (check_state_cgroups). open_nspawn needs it.
    std::string cgroup_relative;

    // nspawn moves the guest into this leaf of the container's cgroup.
    std::string payload_cgroup() const { return cgroup + "/payload"; }
};

// state.json's text (state.cpp maps the members). Never throws: a string that is not UTF-8 is
// written with U+FFFD in place of its bad bytes.
std::string to_json(const State& state);
// The state in a state.json text. An error is one line naming the field and its bad value (a
// missing required key, a wrong type, a number out of range); keys added later may be absent.
Result<State> state_from_json(const std::string& text);

// The recorded state, or nullopt when none is recorded. The state file is not trusted: its
// cgroups must pass check_state_cgroups against the mounts volt-run finds itself (paths'
// cgroup_root). One that fails is reported in one line and returned stale (no pid, no cgroups),
// so that nothing it names outside the container is signalled, killed or removed.
Result<std::optional<State>> read_state(const Paths& paths, const std::string& name);
Status write_state(const Paths& paths, const std::string& name, const State& state);

// Pure: the container's own cgroups as a state file names them, checked against what volt-run
// computes from the name: canonical paths strictly below the hierarchy's mount, ending in the
// container's own leaf (.../volt.slice/volt-hybrid-NAME, or .../volt-hybrid@NAME.service/container
// under its unit). Returns `cgroup` relative to the cgroup2 mount; the error says which path is
// not the container's.
Result<std::string> check_state_cgroups(const cgroup::Mounts& mounts, const std::string& name,
                                        const State& state);

// A pidfd for the container's nspawn if it is still the process boot recorded: the pidfd is
// opened first, then the process is shown to be that one (its start time) and the container's
// (its cgroup, from /proc/PID/cgroup, is the container's verified cgroup or below it, and it was
// still alive after that was read). An empty fd when the container is not running, or when the
// process is not the container's.
UniqueFd open_nspawn(const State& state);

// The current time, UTC, RFC 3339 ("2026-11-22T17:00:00Z").
std::string utc_now();
// The seconds since the epoch of a time utc_now wrote; nullopt for any other text (a state file
// is not trusted).
std::optional<std::int64_t> parse_utc(std::string_view text);

}  // namespace volt::runtime
