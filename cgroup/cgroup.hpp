// cgroup v2, in-process: find the hierarchy, create a container's own cgroup, move processes,
// kill, remove. Writes go straight to cgroupfs files; nothing is shelled out.
//
// Hybrid hosts (ours: cgroup v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified) also
// have systemd's v1 "name=systemd" hierarchy. systemd-nspawn places its `payload`/`supervisor`
// leaves under its current cgroup in *both* hierarchies, so a container needs a cgroup of its own
// in both; `Placement` carries the pair.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::cgroup {

// Where the hierarchies are mounted. named_systemd and devices (the v1 devices controller) are
// empty on a pure cgroup2 host.
struct Mounts {
    std::string unified;
    std::string named_systemd;
    std::string devices;
};

// Pure: finds the cgroup2 mount and the v1 name=systemd mount in /proc/self/mountinfo text.
Result<Mounts> parse_mounts(const std::string& mountinfo);
// Whether path is a directory of a cgroup2 file system (statfs).
bool on_cgroup2(const std::string& path);
// Reads /proc/self/mountinfo. A non-empty override names the cgroup2 mount to use instead.
Result<Mounts> find_mounts(const std::string& unified_override = {});

// A process's cgroup paths, relative to each hierarchy's root ("/volt.slice/x").
struct Membership {
    std::string unified;
    std::string named_systemd;
    std::string devices;
};
// Pure: parses /proc/PID/cgroup text ("0::/path", "N:name=systemd:/path" and "N:devices:/path"
// lines).
Result<Membership> parse_proc_cgroup(const std::string& text);
Result<Membership> self_membership();

// An open cgroup directory in the cgroup2 hierarchy.
class Cgroup {
  public:
    // Opens an existing cgroup (absolute cgroupfs path).
    static Result<Cgroup> open(const std::string& path);
    // Creates the cgroup and any missing parents, or opens it if it exists.
    static Result<Cgroup> create(const std::string& path);

    const std::string& path() const { return path_; }
    int fd() const { return fd_.get(); }

    // Moves pid (0: the caller) into this cgroup. Needs write access to cgroup.procs here and in
    // the common ancestor (root, or a delegated subtree).
    Status attach(pid_t pid) const;
    // Kills every process in the subtree: cgroup.kill (Linux 5.14), else freeze, SIGKILL each
    // pid, thaw.
    Status kill() const;
    // cgroup.freeze (Linux 5.2). Returns once the kernel reports the requested state.
    Status freeze(bool frozen, int timeout_ms = 5000) const;
    // "populated" of cgroup.events: any process in the subtree.
    Result<bool> populated() const;
    // "frozen" of cgroup.events: the subtree is frozen (cgroup.freeze here or above).
    Result<bool> frozen() const;
    // Waits until no process is left in the subtree.
    Status wait_empty(int timeout_ms) const;
    // Pids in this cgroup only (not the subtree).
    Result<std::vector<pid_t>> procs() const;

  private:
    Cgroup(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    UniqueFd fd_;
};

// Creates path (and parents) in any cgroup hierarchy, v1 or v2, and moves pid there.
Status create_and_attach(const std::string& path, pid_t pid);

// Creates path (and parents) in a cgroup v1 hierarchy and moves the calling process there. A
// single-threaded caller writes "0" (itself) to `tasks`: a thread moving itself is spared the
// write lock on cgroup_threadgroup_rwsem that a write to cgroup.procs takes, and with it the RCU
// grace period that lock can wait for (7-16 ms here on a quiet machine, DESIGN.md §6 has 15-22).
// The kernel spares it since commit 9a3284fad42f ("cgroup: Optimize single thread migration",
// also in 5.4's stable series); a kernel without it takes the lock for `tasks` too, which is as
// correct and only as slow. A process with threads writes cgroup.procs, so that all of them move.
Status create_and_join_v1(const std::string& path);

// Removes a cgroup directory and the cgroups below it, deepest first. The kernel releases a
// cgroup shortly after its last process is reaped, so EBUSY is retried for up to timeout_ms.
// A missing path is success.
Status remove_tree(const std::string& path, int timeout_ms = 2000);

}  // namespace volt::cgroup
