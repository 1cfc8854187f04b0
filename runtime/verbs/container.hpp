// The runtime's public interface: one function per lifecycle verb. Each validates the name,
// takes the container's lock where it changes anything, and returns errors as values.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/steps.hpp"
#include "runtime/plan/cp.hpp"
#include "runtime/plan/exec_plan.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"
#include "units/journal.hpp"
#include "units/systemd.hpp"

namespace volt::runtime {

// Validates the request, copies the image, writes unit, .nspawn file and spec. On any failure
// everything it made is removed again. Needs root (owners, device nodes, /etc/systemd).
Result<Spec> create(const Paths& paths, const CreateRequest& request);

struct BootOptions {
    // Fork, boot in the background, and return once the container reports READY.
    bool detach = false;
    int ready_timeout_seconds = 90;
    // Collect the run when nspawn exits, however it exits, unless the container's unit does
    // (ExecStopPost=): in the foreground volt-run stays as nspawn's parent (a supervisor that
    // forwards SIGTERM and SIGHUP and ignores the terminal's SIGINT and SIGQUIT); with detach a
    // reaper is left behind after READY. false: this process becomes nspawn and nobody collects
    // (the fault-injection tests of boot's steps, which need the steps in their own process).
    bool supervise = true;
};
// Foreground: sets up the container's cgroup, records state and execs systemd-nspawn; supervised
// (see BootOptions::supervise), in a child, returning nspawn's exit status (128+N for signal N)
// once its run is collected; otherwise in this process (returns only on failure). Detached:
// returns 0 once the container is READY. Each step of the plan is a fault point "boot:STEP"
// (paths.fault; those of the network "boot:network:STEP"): an error the hook returns fails that
// step, and what ran before is undone.
Result<int> boot(const Paths& paths, const std::string& name, const BootOptions& options);

// ExecOptions: runtime/plan/exec_plan.hpp.
// Runs argv inside the running container and returns its exit code (128+N for signal N).
// Errors: not running (usage), command not found (not_found), not executable (cannot_execute).
Result<int> exec(const Paths& paths, const std::string& name, const ExecOptions& options);

// Copies src to dst, one of them a container's (running or stopped), keeping modes, owners
// (mapped through the container's user namespace), timestamps and xattrs; see cp.cpp for how
// owners and privileges cross, and docs/man/volt-run-cp.md. An existing directory at dst
// receives the copy under src's name; an existing file there is replaced (renamed over, never
// written through). Every path on the container's side is resolved below its root. On error
// nothing of the copy is left. Usage errors: bad operands, unknown container, a missing source.
Status copy(const Paths& paths, const CpOperand& src, const CpOperand& dst);

// A container started by its unit is stopped through systemd (StopUnit; with wait, returning
// once the job finished; the unit's ExecStopPost= collects). Otherwise, standalone: SIGTERM to
// nspawn (which asks the guest to halt); after grace_seconds, cgroup.kill. Waits until every
// process is gone, then removes the cgroups and the runtime state. Stopping a stopped container
// only collects what a crashed run left.
Status stop(const Paths& paths, const std::string& name, int grace_seconds, bool wait = true);

// Removes everything create and boot made, and the unit from systemd (disabled, reloaded). A
// running container needs force (it is stopped first). Safe to run again after a crash at any
// step.
Status remove(const Paths& paths, const std::string& name, bool force, int grace_seconds = 10);

// Changes resource limits: written to the running container's cgroup at once (refused if a
// controller is missing), and to its spec for the next boot. Returns the updated spec.
Result<Spec> update(const Paths& paths, const std::string& name, const ResourceRequest& request);
// memory, CPU, pids and OOM counters of a running container.
Result<cgroup::Stats> stats(const Paths& paths, const std::string& name);
// Freezes (paused) or thaws every process of a running container (cgroup.freeze).
Status pause(const Paths& paths, const std::string& name, bool paused);

// Starts (restart: restarts) the container's unit through systemd. With wait, returns once the
// job finished: for a start, once the guest reported READY. Without a system bus: an error that
// points to `boot`.
Status start(const Paths& paths, const std::string& name, bool wait, bool restart = false);

// What systemd and machined know of the container's unit and machine.
struct ServiceStatus {
    std::string unit;
    units::UnitStatus unit_status;
    std::optional<units::Machine> machine;  // when registered by this container's unit
};
Result<ServiceStatus> service_status(const Paths& paths, const std::string& name);

struct LogsOptions {
    std::optional<std::size_t> lines;         // only the last N
    std::optional<std::uint64_t> since_usec;  // CLOCK_REALTIME µs
    bool follow = false;
};
// The machine id in the container's own /etc/machine-id (nspawn links the guest's journal by it),
// or empty when there is none, in any state of the container: a copy's tree on the disk; an
// overlay's merged tree as its running nspawn has it mounted, or when stopped, its layers
// mounted read-only for the read. No lock is taken. The file is the guest's: no link followed out
// of its root, a FIFO or an oversized file refused, anything but 32 hex digits ignored.
std::string guest_machine_id(const Paths& paths, const Spec& spec);

// The container's messages in the host's journal, oldest first; following until stop_fd is
// readable.
Status logs(const Paths& paths, const std::string& name, const LogsOptions& options, int stop_fd,
            const std::function<void(const units::JournalEntry&)>& out);

struct ContainerInfo {
    Spec spec;
    std::optional<State> state;  // recorded runtime state, if any
    bool running = false;        // the recorded nspawn is alive
    bool paused = false;         // running, and its cgroup is frozen (pause)
    // Not running, but its run was never collected (nspawn was killed, the host's init reaped
    // it): what is left, e.g. "processes in its cgroup". stop, delete and the next boot collect.
    std::string leftovers;
    pid_t leader = 0;  // the guest's PID 1, when running and started
    // machined's record (its addresses, say), when it registered the container; inspect only.
    std::optional<units::Machine> machine;
    // Why its files cannot be read (a damaged spec or state, a create that never finished), or
    // empty. A broken container's spec holds only its name; delete --force removes it.
    std::string broken;
};
// Every container, sorted by name. One whose files are damaged is listed as broken, never hides
// the others; a config directory whose name is not a container's is skipped with a warning.
Result<std::vector<ContainerInfo>> list(const Paths& paths);
Result<ContainerInfo> inspect(const Paths& paths, const std::string& name);

}  // namespace volt::runtime
