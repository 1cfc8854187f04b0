#include "runtime/verbs/service.hpp"

#include "runtime/plan/boot_plan.hpp"

#include <cstdlib>

#include "base/fs.hpp"
#include "base/proc.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/console_log.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/layers.hpp"
#include "units/journal.hpp"
#include "units/units.hpp"

namespace volt::runtime {
namespace {

// "starting volt-hybrid@web.service failed (job result: failed; service: exit-code, status 125)"
Error job_failed(units::Systemd& systemd, const std::string& verb, const std::string& name,
                 const std::string& job_result) {
    const std::string unit = units::service_name(name);
    std::string why = "job result: " + job_result;
    if (auto st = systemd.status(unit); st && !st->result.empty() && st->result != "success")
        why += "; service: " + st->result + ", status " + std::to_string(st->exec_main_status);
    return Error(
        0, verb + " " + unit + " failed (" + why + "); `volt-run logs " + name + "` shows why");
}

// The first word of a text read, or empty.
std::string first_word(const Result<std::string>& text) {
    auto w = text ? fs::words(*text) : std::vector<std::string_view>();
    return w.empty() ? std::string() : std::string(w[0]);
}

}  // namespace

bool inside_own_unit(const Paths& paths, const std::string& name,
                     const std::optional<std::string>& own_cgroup) {
    if (!paths.invocation_id)
        return false;
    if (own_cgroup)
        return in_own_unit(name, true, *own_cgroup);
    auto self = cgroup::self_membership();
    return self && in_own_unit(name, true, self->unified);
}

Result<std::optional<units::Systemd>> connect_if_present(const Paths& paths) {
    if (!system_bus_present(paths))
        return std::optional<units::Systemd>();
    auto systemd = units::Systemd::connect();
    if (!systemd)
        return std::move(systemd).error();
    return std::optional<units::Systemd>(std::move(systemd).value());
}

Error no_system_bus(const std::string& verb, const std::string& name, const std::string& instead) {
    return Error(0,
                 verb + " " + name + " needs systemd, and this host has no system bus; " + instead);
}

Result<bool> stopped_by_systemd(units::Systemd& systemd, const Paths& paths,
                                const std::string& name, const std::optional<State>& state) {
    if (inside_own_unit(paths, name))
        return false;
    if (state && state->under_systemd)
        return true;
    if (state && open_nspawn(*state))
        return false;  // booted by hand: not systemd's
    auto st = systemd.status(units::service_name(name));
    if (!st)
        return std::move(st).error();
    return st->known() && st->busy();
}

Status stop_unit(units::Systemd& systemd, const std::string& name, bool wait) {
    auto result = systemd.run_job("StopUnit", units::service_name(name), wait);
    if (!result)
        return std::move(result).error();
    if (*result != "done" && *result != "queued")
        return job_failed(systemd, "stopping", name, *result);
    return {};
}

Status start(const Paths& paths, const std::string& name, bool wait, bool restart) {
    const std::string verb = restart ? "restart" : "start";
    VOLT_TRY(load_spec(paths, name));
    auto systemd = connect_if_present(paths);
    if (!systemd)
        return std::move(systemd).error();
    if (!*systemd)
        return no_system_bus(verb, name,
                             "boot it with `volt-run boot --detach " + name + "` instead");
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    if (*state && !(*state)->under_systemd && open_nspawn(**state))
        return Error::usage("container " + name + " is running outside systemd (booted by " +
                            "volt-run boot, pid " + std::to_string((*state)->nspawn_pid) +
                            "); stop it with `volt-run stop " + name + "` first");
    const std::string unit = units::service_name(name);
    auto st = (*systemd)->status(unit);
    if (!st)
        return std::move(st).error();
    if (!st->known())
        return Error(ENOENT, "systemd does not know " + unit + " (is " + paths.unit_file(name) +
                                 " in a directory systemd reads?)");
    auto result = (*systemd)->run_job(restart ? "RestartUnit" : "StartUnit", unit, wait);
    if (!result)
        return std::move(result).error();
    if (*result != "done" && *result != "queued")
        return job_failed(**systemd, restart ? "restarting" : "starting", name, *result);
    return {};
}

Result<ServiceStatus> service_status(const Paths& paths, const std::string& name) {
    VOLT_TRY(load_spec(paths, name));
    auto systemd = connect_if_present(paths);
    if (!systemd)
        return std::move(systemd).error();
    if (!*systemd)
        return no_system_bus("status", name,
                             "`volt-run inspect " + name + "` shows volt-run's own records");
    ServiceStatus out;
    out.unit = units::service_name(name);
    auto st = (*systemd)->status(out.unit);
    if (!st)
        return std::move(st).error();
    out.unit_status = std::move(st).value();
    auto machine = (*systemd)->machine(name);
    if (!machine)
        return std::move(machine).error();
    if (*machine && (*machine)->unit == out.unit)
        out.machine = std::move(*machine);
    return out;
}

namespace {

// The console log's lines as entries without a time: MESSAGE and _TRANSPORT=console.
Status console_logs(const Paths& paths, const std::string& name, const LogsOptions& options,
                    int stop_fd, const std::function<void(const units::JournalEntry&)>& out) {
    if (options.since_usec)
        return Error::usage("--since: the console log of " + name +
                            " has no times (journald is not running on this host)");
    ConsoleOptions o{.lines = options.lines, .follow = options.follow};
    auto st = read_console_log(paths.console_log(name), o, stop_fd, [&](std::string_view line) {
        if (line.ends_with('\r'))  // the guest's pty ends its lines with "\r\n"
            line.remove_suffix(1);
        out(units::JournalEntry{0, {{"MESSAGE", std::string(line)}, {"_TRANSPORT", "console"}}});
    });
    if (!st && st.error().code() == ENOENT)
        return Error(0, "no journal on this host (journald is not running) and no console log of " +
                            name +
                            ": a run started with `volt-run boot --detach` keeps one "
                            "until it stops (a foreground boot's console is its terminal)");
    return st;
}

}  // namespace

std::string guest_machine_id(const Paths& paths, const Spec& spec) {
    const std::string& name = spec.name;
    // A machine id is 32 hex digits and a line break.
    constexpr std::size_t kMachineIdMax = 64;
    auto id_in = [](const Result<rootfs::ContainerRoot>& root) {
        std::string id =
            root ? first_word(root->read_file("/etc/machine-id", kMachineIdMax)) : std::string();
        const bool hex = id.size() == 32 && id.find_first_not_of("0123456789abcdef") == id.npos;
        return hex ? id : std::string();
    };
    // Whatever the container's state (running, paused, starting), its tree is on the disk.
    if (spec.rootfs == RootfsMode::copy)
        return id_in(rootfs::ContainerRoot::open(paths.rootfs(name)));
    // An overlay container's tree is mounted only in its nspawn's mount namespace, at the
    // container's path (boot attaches it there): read there while nspawn runs. That is the tree
    // nspawn was given, none of the guest's own mounts, and no lock is taken, so neither a
    // stop's grace period nor a file the guest serves can hold logs (or other verbs) up.
    if (auto state = read_state(paths, name); state && *state) {
        if (UniqueFd nspawn = open_nspawn(**state)) {
            std::string id = id_in(rootfs::ContainerRoot::open(
                "/proc/" + std::to_string((**state).nspawn_pid) + "/root" + paths.rootfs(name)));
            // The pid was read from /proc: the pidfd proves it was still that nspawn's.
            return proc::pidfd_alive(nspawn.get()) ? id : std::string();
        }
    }
    // Stopped: its layers mounted read-only for the read, so that nothing of them is written.
    auto merged = mount_container_overlay_readonly(paths, spec);
    if (!merged)
        return {};
    return id_in(rootfs::ContainerRoot::of_fd(merged->get(), paths.rootfs(name)));
}

Status logs(const Paths& paths, const std::string& name, const LogsOptions& options, int stop_fd,
            const std::function<void(const units::JournalEntry&)>& out) {
    VOLT_TRY_ASSIGN(const Spec spec, load_spec(paths, name));
    // Without journald (our CI machines, a host whose PID 1 is not systemd) nothing is logged
    // there: the console log boot --detach keeps is all there is.
    if (!fs::exists("/run/systemd/journal/socket"))
        return console_logs(paths, name, options, stop_fd, out);
    units::JournalQuery q;
    q.unit = units::service_name(name);
    q.since_usec = options.since_usec;
    q.lines = options.lines;
    q.follow = options.follow;
    // The guest's own journal, when nspawn linked it to the host: its entries carry the guest's
    // machine id. A guest without one (busybox) has only its console, which is in the unit's.
    // A guest that shares the host's id would match every entry of the host.
    std::string guest = guest_machine_id(paths, spec);
    if (!guest.empty() && guest != first_word(fs::read_file("/etc/machine-id")))
        q.machine_id = guest;
    std::size_t shown = 0;
    VOLT_TRY(units::read_journal(q, stop_fd, [&](const units::JournalEntry& e) {
        ++shown;
        out(e);
    }));
    // A container booted by hand with --detach has its console in its log, not in the journal.
    if (shown == 0 && !options.follow && fs::exists(paths.console_log(name)))
        return console_logs(paths, name, options, stop_fd, out);
    return {};
}

}  // namespace volt::runtime
