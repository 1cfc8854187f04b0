// volt-run bench: full lifecycles of a container measured as a user sees them, each verb run as
// this very binary in a process of its own, against a scratch data root that is removed
// afterwards. The figures' summaries and renderings are pure (runtime/plan/bench.hpp).
#pragma once

#include <string>

#include "base/error.hpp"
#include "runtime/plan/bench.hpp"
#include "runtime/plan/paths.hpp"

namespace volt::runtime {

struct BenchOptions {
    std::string image;  // a directory, or a name under the caller's ROOT/images
    int iterations = 20;
    std::string network = "private";  // "none" or "private"
    int stop_time = 10;               // stop --time S of each lifecycle
    bool progress = true;             // "lifecycle 3/20: boot" on stderr
    // Also time the same steps done with shell tools, interleaved with volt-run's (BenchPeer).
    bool compare = false;
    // create's --rootfs. For overlay the image is first imported into the scratch root (untimed),
    // since an overlay's lower layer must be an image there; cp -a still copies the image given.
    std::string rootfs = "copy";
};

// Runs options.iterations lifecycles (create, boot --detach, exec /bin/true 1 + kWarmExecs
// times, stop, delete) of one container named "vb-PID" in a scratch data root
// /var/tmp/volt-bench.XXXXXX, each verb timed with CLOCK_MONOTONIC from posix_spawn to its
// reaped exit, and boot's two inner phases from its VOLT_TIMING_FD lines (paths.hpp).
//
// Needs root: the process first moves into network and mount namespaces of its own
// (unshare(CLONE_NEWNET | CLONE_NEWNS), loopback up, mounts private), so that voltbr0, the veths,
// the nftables table and the namespace mounts of --network private never reach the host's. A
// failing verb, SIGINT, SIGTERM or SIGHUP end the run: the container is deleted (delete
// --force), the scratch root removed, and the error names the verb and its last line of stderr.
// With options.compare, each lifecycle also runs the peers, the one place volt-run runs programs
// other than nspawn and a user's command: `cp -a` of the image (create); sh writing a cgroup
// (mkdir, join, leave, rmdir) and ip(8) making a bridge, a veth pair on it and an address (boot
// set-up, --network private); bare `systemd-nspawn --boot` of cp's copy of the image, in a cgroup
// of its own, timed to the READY=1 it sends to bench's notify socket and then stopped with
// SIGTERM (time to READY, and stop), before volt-run's boot in odd lifecycles and after its stop
// in even ones; `nsenter -t LEADER -a /bin/true` into the running container and `crun exec` into
// a crun container of the image (first exec, then alternating with the warm ones). A program
// that is not installed is reported so; a peer that fails is reported with its reason and runs
// no more, while the rest of the bench goes on. Whatever a peer made (processes, cgroups, the
// copy, links, crun's mount namespace) is removed after each lifecycle and on every way out.
// `paths` are the caller's: only its images (a bare --image name), cgroup root and subnet are
// used.
Result<BenchReport> bench(const Paths& paths, const BenchOptions& options);

}  // namespace volt::runtime
