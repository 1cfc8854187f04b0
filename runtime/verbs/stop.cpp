#include <signal.h>
#include <sys/stat.h>

#include "base/fault.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/syscalls.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/network.hpp"
#include "runtime/verbs/service.hpp"
#include "units/units.hpp"

namespace volt::runtime {
namespace {

// How long nspawn gets to exit after its container's processes were killed.
constexpr int kAfterKillMs = 5000;

Status stop_locked(const Paths& paths, const std::string& name, int grace_seconds) {
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    if (!*state)
        return {};  // not running, nothing recorded
    const State& s = **state;
    if (UniqueFd nspawn = open_nspawn(s)) {
        // A paused container cannot halt: thawed first, or SIGTERM would wait out the grace.
        if (auto cg = cgroup::Cgroup::open(s.cgroup); cg && cg->frozen().value_or(false))
            VOLT_TRY_CTX(cg->freeze(false), "resuming " + name + " to stop it");
        // nspawn turns SIGTERM into the guest's halt signal and exits once the guest is down.
        VOLT_TRY(fault::at(paths.fault, "stop:signal"));
        VOLT_TRY_CTX(sys::pidfd_send_signal(nspawn.get(), SIGTERM), "signalling nspawn");
        if (!proc::pidfd_wait_exit(nspawn.get(), grace_seconds * 1000)) {
            log::info("%s did not halt within %d s; killing it", name.c_str(), grace_seconds);
            VOLT_TRY(fault::at(paths.fault, "stop:kill"));
            // The guest first (nspawn's payload/): nspawn then sees its container die and exits
            // by itself, removing its lock files and propagation directory, which it leaves when
            // it is killed. Everything else of the container's only if it does not.
            auto payload = cgroup::Cgroup::open(s.cgroup + "/payload");
            if (payload)
                VOLT_TRY_CTX(payload->kill(), "killing " + name);
            if (!payload || !proc::pidfd_wait_exit(nspawn.get(), kAfterKillMs)) {
                auto cg = cgroup::Cgroup::open(s.cgroup);
                if (cg)
                    VOLT_TRY_CTX(cg->kill(), "killing " + name);
            }
            if (!proc::pidfd_wait_exit(nspawn.get(), kAfterKillMs)) {
                (void)sys::pidfd_send_signal(nspawn.get(), SIGKILL);
                if (!proc::pidfd_wait_exit(nspawn.get(), kAfterKillMs))
                    return Error(ETIMEDOUT, "nspawn of " + name + " (pid " +
                                                std::to_string(s.nspawn_pid) + ") did not exit");
            }
        }
    }
    VOLT_TRY(fault::at(paths.fault, "stop:collect"));
    return collect_run(paths, name, s);
}

// Stops the container through systemd when that is whose it is (see stopped_by_systemd); true
// when it did. Without a system bus (systemd empty), or for a container booted by hand: false,
// nothing done.
Result<bool> stop_through_systemd(std::optional<units::Systemd>& systemd, const Paths& paths,
                                  const std::string& name, const std::optional<State>& state,
                                  bool wait, const char* refusal) {
    if (!systemd) {
        if (state && state->under_systemd)
            log::warn(
                "%s was started by its unit, and this host has no system bus any more; "
                "stopping it without systemd",
                name.c_str());
        return false;
    }
    auto by_systemd = stopped_by_systemd(*systemd, paths, name, state);
    if (!by_systemd)
        return std::move(by_systemd).error();
    if (!*by_systemd)
        return false;
    if (refusal)
        return Error::usage(refusal);
    // Not under the container's lock: the unit's ExecStopPost= (volt-run stop) takes it.
    VOLT_TRY(stop_unit(*systemd, name, wait));
    return true;
}

// What exists of a container in the data root, the run directory and the unit directories,
// whatever its spec says: something, or nothing at all.
bool anything_of(const Paths& paths, const std::string& name) {
    for (const auto& path : {paths.config_dir(name), paths.rootfs(name), paths.rootfs_staging(name),
                             paths.overlay_dir(name), paths.state_dir(name), paths.unit_file(name),
                             paths.nspawn_file(name)})
        if (struct stat st; ::lstat(path.c_str(), &st) == 0)
            return true;
    return false;
}

// The recorded state, for delete: with force a damaged state file is reported and the run is
// then collected by the container's name (collect_by_name) instead of by its record.
Result<std::optional<State>> state_for_delete(const Paths& paths, const std::string& name,
                                              bool force) {
    auto state = read_state(paths, name);
    if (state || !force)
        return state;
    log::warn("%s; collecting its run by name", state.error().describe().c_str());
    return std::optional<State>();
}

}  // namespace

Status stop(const Paths& paths, const std::string& name, int grace_seconds, bool wait) {
    VOLT_TRY(load_spec(paths, name));
    auto systemd = connect_if_present(paths);
    if (!systemd)
        return std::move(systemd).error();
    VOLT_TRY_ASSIGN(auto state, read_state(paths, name));
    auto by_systemd = stop_through_systemd(*systemd, paths, name, state, wait, nullptr);
    if (!by_systemd)
        return std::move(by_systemd).error();
    if (*by_systemd && !wait)
        return {};
    // Standalone; or after systemd stopped the unit, whatever its ExecStopPost= did not collect.
    auto lock = lock_container(paths, name);
    if (!lock)
        return std::move(lock).error();
    return stop_locked(paths, name, grace_seconds);
}

Status remove(const Paths& paths, const std::string& name, bool force, int grace_seconds) {
    VOLT_TRY(validate_name(name));
    if (auto spec = load_spec(paths, name); !spec) {
        // A container whose spec is missing (a create killed half-way) or damaged: --force
        // removes whatever of it exists; without, the error says so.
        const bool leftovers = anything_of(paths, name);
        if (!leftovers)
            return std::move(spec).error();
        if (!force) {
            const Error& e = spec.error();
            return Error(e.code(), e.message() + " (delete --force removes what exists of it)",
                         e.kind());
        }
        log::warn("%s; removing what exists of %s", spec.error().describe().c_str(), name.c_str());
        // The lock lives in the config directory.
        VOLT_TRY(fs::mkdir_p(paths.config_dir(name), 0700));
    }
    const std::string refusal =
        "container " + name + " is running; stop it first or use delete --force";
    auto systemd = connect_if_present(paths);
    if (!systemd)
        return std::move(systemd).error();
    // Each step is a fault point "delete:STEP"; a crash between two leaves a container that
    // delete (with --force once its spec is gone) removes the rest of.
    auto point = fault::prefixed(paths.fault, "delete:");
    VOLT_TRY(fault::at(point, "stop"));
    {
        VOLT_TRY_ASSIGN(auto state, state_for_delete(paths, name, force));
        auto by_systemd = stop_through_systemd(*systemd, paths, name, state, true,
                                               force ? nullptr : refusal.c_str());
        if (!by_systemd)
            return std::move(by_systemd).error();
    }
    auto lock = lock_container(paths, name);
    if (!lock)
        return std::move(lock).error();
    VOLT_TRY_ASSIGN(auto state, state_for_delete(paths, name, force));
    if (state && open_nspawn(*state)) {
        if (!force)
            return Error::usage(refusal);
        VOLT_TRY(stop_locked(paths, name, grace_seconds));
    } else if (state) {
        VOLT_TRY(collect_run(paths, name, *state));
    }
    // Whatever a run left without a record (killed before its state was written, a damaged
    // state): found by the container's name.
    VOLT_TRY(fault::at(point, "collect"));
    VOLT_TRY(collect_by_name(paths, name));
    const std::string unit = units::service_name(name);
    if (*systemd && fs::exists(paths.unit_file(name))) {
        VOLT_TRY(fault::at(point, "disable"));
        auto st = (*systemd)->status(unit);
        if (!st)
            return std::move(st).error();
        if (st->unit_file_state == "enabled")
            VOLT_TRY((*systemd)->disable(unit));
    }
    // The spec goes last: until then the container is listed and delete can be run again. With
    // each file the temporaries a create killed while writing it left (under this lock).
    VOLT_TRY(fault::at(point, "unit file"));
    VOLT_TRY(fs::remove_tree(paths.unit_file(name)));
    VOLT_TRY(fs::remove_temporaries(paths.unit_file(name)));
    VOLT_TRY(fault::at(point, "settings file"));
    VOLT_TRY(fs::remove_tree(paths.nspawn_file(name)));
    VOLT_TRY(fs::remove_temporaries(paths.nspawn_file(name)));
    if (*systemd) {
        VOLT_TRY(fault::at(point, "reload"));
        VOLT_TRY((*systemd)->reload());
        VOLT_TRY((*systemd)->reset_failed(unit));
    }
    VOLT_TRY(fault::at(point, "staging"));
    VOLT_TRY(fs::remove_tree(paths.rootfs_staging(name)));
    VOLT_TRY(fault::at(point, "rootfs"));
    VOLT_TRY_CTX(fs::remove_tree(paths.rootfs(name)), "removing root file system");
    // An overlay container's upper and work directories; its image, the lower layer, stays. No
    // overlay is mounted here: only a boot's own mount namespace ever had it, and its run is
    // gone.
    VOLT_TRY(fault::at(point, "overlay"));
    VOLT_TRY_CTX(fs::remove_tree(paths.overlay_dir(name)), "removing the overlay's layers");
    VOLT_TRY(fault::at(point, "state"));
    VOLT_TRY(fs::remove_tree(paths.state_dir(name)));
    VOLT_TRY(fault::at(point, "lease"));
    VOLT_TRY_CTX(release_lease(paths, name), "releasing the address of " + name);
    VOLT_TRY(fault::at(point, "spec"));
    VOLT_TRY(fs::remove_tree(paths.spec_file(name)));
    VOLT_TRY(fault::at(point, "config"));
    return fs::remove_tree(paths.config_dir(name));
}

}  // namespace volt::runtime
