// volt-run bench's process runner and its two long-lived peers (bench --compare): bare
// systemd-nspawn --boot timed to READY and stopped, and a crun container to `crun exec` into.
// Internal to bench (runtime/verbs/bench.cpp); nothing here prints.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/plan/bench_peers.hpp"

namespace volt::runtime::bench_detail {

std::uint64_t now_ns();  // CLOCK_MONOTONIC

struct Timed {
    int code = -1;  // exit status, 128+N for signal N
    std::uint64_t ns = 0;
};

// Runs argv with env, stdin and stdout on /dev/null, stderr truncated into stderr_file, in a
// process group of its own with default signal handling, timed from posix_spawn until it is
// reaped. timing_fd, when not -1, becomes the child's fd 3.
Result<Timed> run_timed(const std::vector<std::string>& args, const std::vector<std::string>& env,
                        const std::string& stderr_file, int timing_fd = -1);

// The last line of a file of a child's stderr, printable, without a "volt-run: " prefix.
std::string last_line_of(const std::string& file);

// A cgroup of a peer's own, at the same path in the cgroup2 hierarchy and (on a hybrid host) in
// the v1 name=systemd one, as volt-run's boot makes for its container: nspawn puts its payload/
// and supervisor/ below the cgroup it starts in, in both.
struct PeerCgroup {
    cgroup::Mounts mounts;
    std::string relative;  // "/path/below/each/root"
    std::string unified() const { return mounts.unified + relative; }
    std::string named_systemd() const {
        return mounts.named_systemd.empty() ? "" : mounts.named_systemd + relative;
    }
    Status create() const;
    // Kills whatever runs in it (both hierarchies' processes are the same ones) and removes
    // both trees. Quiet about what is already gone.
    Status remove() const;
};

// Bare `systemd-nspawn --boot` of a container root, timed from the moment its process, already
// in its own cgroup, is let go into execve until nspawn sends READY=1 to bench's notify socket
// (a datagram whose sender is that very process, checked with SCM_CREDENTIALS). The fork before
// it is left out: a user's shell starts nspawn from a cgroup it is already in, and moving into
// one (cgroup.procs, slow at times, DESIGN.md §6) is bench's bookkeeping, not nspawn's cost.
class BareNspawn {
  public:
    // dir: a scratch directory of bench's own for the notify socket and nspawn's output.
    BareNspawn(std::string dir, PeerCgroup cgroup) : dir_(std::move(dir)), cg_(std::move(cgroup)) {}
    BareNspawn(const BareNspawn&) = delete;
    BareNspawn& operator=(const BareNspawn&) = delete;
    ~BareNspawn() { (void)cleanup(); }

    // Boots: the time to READY. A nspawn that exits first, no READY within timeout_s, or
    // *interrupted set (a signal) are errors, and what was started is taken down again.
    Result<std::uint64_t> boot(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env, int timeout_s,
                               const volatile sig_atomic_t* interrupted);
    // SIGTERM to nspawn (the guest halts) and the time until nspawn has exited; after
    // stop_time_s the guest's cgroup is killed, as volt-run stop does.
    Result<std::uint64_t> stop(int stop_time_s);
    // Kills what is left and removes its cgroups and socket: idempotent, also after a failure.
    Status cleanup();

    const std::string& log_file() const { return log_; }

  private:
    std::string dir_;
    PeerCgroup cg_;
    std::string log_ = dir_ + "/nspawn.log";
    pid_t pid_ = -1;
    UniqueFd pidfd_;
};

// A crun container to exec into. crun runs in a mount namespace of bench's that differs from
// bench's own in two mounts: a cgroup2 at /sys/fs/cgroup when the host is hybrid (crun 1.8.1
// refuses a hybrid layout; the cgroup2 is the same hierarchy as /sys/fs/cgroup/unified, so the
// container's cgroup is a real one that `crun exec` joins), and the image bound read-only at the
// bundle's rootfs, so the container cannot write into the image. Nothing of it reaches bench's
// own namespace: its scratch removal never meets the image's bind.
class Crun {
  public:
    Crun(std::string crun, std::string dir, std::string id, PeerCgroup cgroup)
        : crun_(std::move(crun)),
          dir_(std::move(dir)),
          id_(std::move(id)),
          cg_(std::move(cgroup)) {}
    Crun(const Crun&) = delete;
    Crun& operator=(const Crun&) = delete;
    ~Crun() { (void)remove(); }

    const std::string& id() const { return id_; }

    // Once: the mount namespace, the bundle (config.json) and its read-only rootfs of image.
    Status prepare(const std::string& image, const std::vector<std::string>& args);
    // crun --root STATE run --detach --bundle BUNDLE ID (not timed).
    Status start(const std::vector<std::string>& env);
    // crun --root STATE exec ID argv...: its time.
    Result<std::uint64_t> exec(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env);
    // crun delete --force, then whatever is left of its cgroup killed and removed. Idempotent.
    Status remove();

    std::string state_dir() const { return dir_ + "/state"; }

  private:
    Result<Timed> run(const std::vector<std::string>& words, const std::vector<std::string>& env);

    std::string crun_, dir_, id_;
    PeerCgroup cg_;
    UniqueFd ns_, own_ns_, cwd_;
    bool started_ = false;
};

}  // namespace volt::runtime::bench_detail
