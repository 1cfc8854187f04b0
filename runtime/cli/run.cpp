#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/log.hpp"
#include "base/syscalls.hpp"
#include "cgroup/devices.hpp"
#include "landlock/landlock.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/verbs/check.hpp"
#include "runtime/verbs/confine.hpp"
#include "units/units.hpp"

namespace volt::cli {
namespace {

using nlohmann::json;

int exit_code_for(const Error& e) {
    switch (e.kind()) {
        case ErrorKind::usage:
            return kExitUsage;
        case ErrorKind::cannot_execute:
            return kExitCannotExecute;
        case ErrorKind::not_found:
            return kExitNotFound;
        case ErrorKind::runtime:
            break;
    }
    return kExitRuntime;
}

int fail(const Error& e) {
    std::fprintf(stderr, "volt-run: %s\n", e.describe().c_str());
    return exit_code_for(e);
}

int finish(const Status& st) {
    return st ? 0 : fail(st.error());
}

const char* state_word(const runtime::ContainerInfo& c) {
    return c.running ? "running" : "stopped";
}

// What the running kernel enforces of the container's Landlock policy, at boot and at exec.
std::string landlock_enforcement(const runtime::Paths& paths, const runtime::Spec& s) {
    if (s.landlock == "none")
        return "none requested";
    auto at_exec =
        runtime::landlock_plan(paths, s, landlock::Part::exec, runtime::LandlockMode::best_effort);
    auto at_boot =
        runtime::landlock_plan(paths, s, landlock::Part::boot, runtime::LandlockMode::best_effort);
    if (!at_exec)
        return "error: " + at_exec.error().describe();
    std::string out = s.landlock + " (" + runtime::to_string(s.landlock_mode) + ", ABI " +
                      std::to_string(at_exec->abi) + "): exec " + at_exec->describe() +
                      "; boot (network and scopes) " + at_boot->describe();
    if (s.landlock_mode == runtime::LandlockMode::require && !at_exec->complete())
        out += "; boot and exec refuse to run";
    return out;
}

// The limits as the cgroup files they are written to, and which of them a running container
// does not have (booted with --missing-controllers ignore).
std::string resources_enforcement(const runtime::ContainerInfo& c) {
    auto settings = cgroup::render(c.spec.resources);
    if (settings.empty())
        return "none requested";
    std::string out;
    for (const auto& st : settings)
        out += (out.empty() ? "" : ", ") + st.file + "=" + st.value;
    if (!c.running)
        return out + " (written at boot)";
    if (c.state && !c.state->unenforced_controllers.empty()) {
        std::string missing;
        for (const auto& m : c.state->unenforced_controllers)
            missing += (missing.empty() ? "" : ", ") + m;
        return out + "; NOT enforced (controller missing): " + missing;
    }
    return out + " (enforced)";
}

// Which filters bind whom: the guest's processes descend from nspawn's init and carry
// nspawn's built-in filter; exec'd commands do not, and get volt-run's rebuild of it.
std::string seccomp_enforcement(const runtime::Spec& s) {
    std::string nspawn =
        "systemd-nspawn's restrictions (keyrings, bpf, open_by_handle_at, "
        "kexec, swap, perf, clock and module calls the guest lacks the "
        "capability for, audit sockets …)";
    if (s.seccomp == "unconfined")
        return "no profile; the guest's processes: nspawn's built-in filter; exec'd commands: "
               "volt-run's copy of " +
               nspawn;
    return "profile " + s.seccomp +
           ": the whole container from boot (nspawn and the guest) and exec'd commands; also "
           "the guest's processes: nspawn's built-in filter; exec'd commands: volt-run's copy "
           "of " +
           nspawn + ", and no_new_privs";
}

// The device policy: what it allows, and for a running container whether the program is
// attached to its cgroup now (read back from the kernel) and where the v1 policy is.
std::string devices_enforcement(const runtime::ContainerInfo& c) {
    std::string policy = "closed, " +
                         std::to_string(cgroup::default_devices().size() + c.spec.devices.size()) +
                         " rules allowed (README: Device policy)";
    if (!c.running || !c.state)
        return policy + ": attached to the container's cgroup at boot";
    auto cg = cgroup::Cgroup::open(c.state->cgroup);
    auto ids = cg ? cgroup::attached_device_programs(cg->fd())
                  : Result<std::vector<std::uint32_t>>(std::move(cg).error());
    std::string out = policy + ": ";
    if (!ids)
        out += "cannot read the eBPF programs of " + c.state->cgroup + " (" +
               ids.error().describe() + ")";
    else if (ids->empty())
        out += "NO eBPF program on " + c.state->cgroup;
    else
        out += "eBPF program on " + c.state->cgroup;
    if (!c.state->cgroup_devices.empty())
        out += "; v1 devices controller at " + c.state->cgroup_devices;
    return out;
}

// What of the spec this version enforces, so that nobody reads a stored setting as applied.
json enforcement(const runtime::Paths& paths, const runtime::ContainerInfo& c) {
    const runtime::Spec& s = c.spec;
    return {
        {"resources", resources_enforcement(c)},
        {"landlock", landlock_enforcement(paths, s)},
        {"seccomp", seccomp_enforcement(s)},
        {"devices", devices_enforcement(c)},
        {"network", std::string(runtime::to_string(s.network)) + ": applied at boot"},
    };
}

json stats_json(const cgroup::Stats& s) {
    auto v = [](const std::optional<std::uint64_t>& x) { return x ? json(*x) : json(nullptr); };
    return {{"memory_current", v(s.memory_current)}, {"memory_peak", v(s.memory_peak)},
            {"oom_kills", v(s.oom_kills)},           {"cpu_usage_usec", v(s.cpu_usage_usec)},
            {"nr_throttled", v(s.nr_throttled)},     {"throttled_usec", v(s.throttled_usec)},
            {"pids_current", v(s.pids_current)}};
}

json info_json(const runtime::Paths& paths, const runtime::ContainerInfo& c) {
    json j = {
        {"name", c.spec.name},
        {"state", state_word(c)},
        {"rootfs", paths.rootfs(c.spec.name)},
        {"unit", paths.unit_file(c.spec.name)},
        {"settings", paths.nspawn_file(c.spec.name)},
        {"spec", json::parse(runtime::to_json(c.spec))},
        {"enforcement", enforcement(paths, c)},
    };
    if (c.running && c.state) {
        j["nspawn_pid"] = c.state->nspawn_pid;
        j["leader_pid"] = c.leader;
        j["cgroup"] = c.state->cgroup;
        j["started"] = c.state->started;
        j["stats"] = stats_json(cgroup::read_stats(c.state->cgroup));
        if (c.machine)
            j["machine"] = {{"leader", c.machine->leader}, {"addresses", c.machine->addresses}};
        if (!c.state->network.empty()) {
            const auto& n = c.state->network;
            j["network"] = {{"bridge", n.bridge},
                            {"address", n.address + "/" + std::to_string(n.prefix)},
                            {"gateway", n.gateway},
                            {"mac", n.mac},
                            {"host_interface", n.host_ifname},
                            {"container_interface", n.container_ifname},
                            {"netns", n.netns},
                            {"dns", n.dns},
                            {"ports", n.ports}};
        }
    }
    return j;
}

int do_create(const Invocation& inv, const CreateCmd& c) {
    auto spec = runtime::create(inv.paths, c.request);
    if (!spec)
        return fail(spec.error());
    std::printf("%s\n", spec->name.c_str());
    return 0;
}

int do_exec(const Invocation& inv, const ExecCmd& c) {
    // Before anything is opened: no fd the caller left open (a host directory, a socket) may
    // reach the command, nor sit in the child while it joins the container.
    if (sys::close_range(3) < 0)
        return fail(Error::from_errno("closing inherited file descriptors"));
    auto code = runtime::exec(inv.paths, c.name, c.options);
    if (!code)
        return fail(code.error());
    return *code;
}

int do_list(const Invocation& inv, const ListCmd& c) {
    auto all = runtime::list(inv.paths);
    if (!all)
        return fail(all.error());
    if (c.json) {
        json arr = json::array();
        for (const auto& info : *all)
            arr.push_back(info_json(inv.paths, info));
        std::printf("%s\n", arr.dump(2).c_str());
        return 0;
    }
    std::printf("%-24s %-8s %-8s %-8s %-8s %s\n", "NAME", "STATE", "PID", "INIT", "NETWORK",
                "IMAGE");
    for (const auto& info : *all) {
        std::string pid = info.running ? std::to_string(info.leader) : "-";
        std::printf("%-24s %-8s %-8s %-8s %-8s %s\n", info.spec.name.c_str(), state_word(info),
                    pid.c_str(), runtime::to_string(info.spec.init),
                    runtime::to_string(info.spec.network), info.spec.image.c_str());
    }
    return 0;
}

int do_inspect(const Invocation& inv, const InspectCmd& c) {
    auto info = runtime::inspect(inv.paths, c.name);
    if (!info)
        return fail(info.error());
    json j = info_json(inv.paths, *info);
    if (c.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    for (const char* key : {"name", "state", "rootfs", "unit", "settings", "nspawn_pid",
                            "leader_pid", "cgroup", "started"})
        if (j.contains(key))
            std::printf(
                "%-12s %s\n", key,
                j[key].is_string() ? j[key].get<std::string>().c_str() : j[key].dump().c_str());
    if (j.contains("network")) {
        std::printf("network:\n");
        for (auto& [k, v] : j["network"].items()) {
            std::string text;
            if (v.is_string())
                text = v.get<std::string>();
            else
                for (const auto& item : v)
                    text += (text.empty() ? "" : " ") + item.get<std::string>();
            std::printf("  %-20s %s\n", k.c_str(), text.empty() ? "-" : text.c_str());
        }
    }
    if (info->machine) {
        std::string addrs;
        for (const auto& a : info->machine->addresses)
            addrs += (addrs.empty() ? "" : " ") + a;
        std::printf("machine:     registered with machined, addresses %s\n",
                    addrs.empty() ? "-" : addrs.c_str());
    }
    std::printf("spec:\n%s", runtime::to_json(info->spec).c_str());
    std::printf("enforcement:\n");
    for (auto& [k, v] : j["enforcement"].items())
        std::printf("  %-10s %s\n", k.c_str(), v.get<std::string>().c_str());
    return 0;
}

int do_stats(const Invocation& inv, const StatsCmd& c) {
    auto s = runtime::stats(inv.paths, c.name);
    if (!s)
        return fail(s.error());
    json j = stats_json(*s);
    if (c.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    for (auto& [k, v] : j.items())
        std::printf("%-16s %s\n", k.c_str(), v.is_null() ? "-" : v.dump().c_str());
    return 0;
}

int do_update(const Invocation& inv, const UpdateCmd& c) {
    auto spec = runtime::update(inv.paths, c.name, c.limits);
    if (!spec)
        return fail(spec.error());
    return 0;
}

// "2026-11-22T17:05:30+0000", in local time; "-" for 0 (never).
std::string local_time(std::uint64_t usec, bool with_fraction = false) {
    if (usec == 0)
        return "-";
    std::time_t secs = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char date[32], zone[8];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);
    std::string out = date;
    if (with_fraction) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%06llu",
                      static_cast<unsigned long long>(usec % 1000000));
        out += frac;
    }
    return out + zone;
}

int do_status(const Invocation& inv, const StatusCmd& c) {
    auto s = runtime::service_status(inv.paths, c.name);
    if (!s)
        return fail(s.error());
    const units::UnitStatus& u = s->unit_status;
    json machine = nullptr;
    if (s->machine)
        machine = {{"leader", s->machine->leader}, {"addresses", s->machine->addresses}};
    json j = {{"unit", s->unit},
              {"load_state", u.load_state},
              {"active_state", u.active_state},
              {"sub_state", u.sub_state},
              {"unit_file_state", u.unit_file_state},
              {"since", u.state_change_usec ? json(local_time(u.state_change_usec)) : json()},
              {"main_pid", u.main_pid},
              {"result", u.result},
              {"exec_main_status", u.exec_main_status},
              {"machine", machine}};
    if (c.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("%-10s %s\n", "unit", s->unit.c_str());
    std::printf("%-10s %s (%s)%s\n", "state", u.active_state.c_str(), u.sub_state.c_str(),
                u.load_state == "loaded" ? "" : (", " + u.load_state).c_str());
    std::printf("%-10s %s\n", "since", local_time(u.state_change_usec).c_str());
    std::printf("%-10s %s\n", "enabled",
                u.unit_file_state.empty() ? "-" : u.unit_file_state.c_str());
    std::printf("%-10s %s\n", "main pid", u.main_pid ? std::to_string(u.main_pid).c_str() : "-");
    if (!u.result.empty() && u.result != "success")
        std::printf("%-10s %s (status %d)\n", "result", u.result.c_str(), u.exec_main_status);
    if (s->machine) {
        std::string addrs;
        for (const auto& a : s->machine->addresses)
            addrs += (addrs.empty() ? "" : " ") + a;
        std::printf("%-10s %s, leader %d, addresses %s\n", "machine", c.name.c_str(),
                    static_cast<int>(s->machine->leader), addrs.empty() ? "-" : addrs.c_str());
    } else {
        std::printf("%-10s not registered\n", "machine");
    }
    return 0;
}

// One journal entry as `journalctl -o short-iso` would show it.
void print_entry(const units::JournalEntry& e) {
    std::string ident = e.get("SYSLOG_IDENTIFIER");
    if (ident.empty())
        ident = e.get("_COMM");
    std::string pid = e.get("SYSLOG_PID");
    if (pid.empty())
        pid = e.get("_PID");
    std::string host = e.get("_HOSTNAME");
    std::printf("%s %s %s%s: %s\n", local_time(e.realtime_usec).c_str(),
                host.empty() ? "-" : host.c_str(), ident.c_str(),
                pid.empty() ? "" : ("[" + pid + "]").c_str(), e.get("MESSAGE").c_str());
}

void print_entry_json(const units::JournalEntry& e) {
    json j = json::object();
    j["__REALTIME_TIMESTAMP"] = std::to_string(e.realtime_usec);
    for (const auto& [k, v] : e.fields)
        j[k] = v;
    // Journal values may be binary: invalid UTF-8 is replaced rather than thrown on.
    std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

int do_logs(const Invocation& inv, const LogsCmd& c) {
    runtime::LogsOptions o;
    o.follow = c.follow;
    if (c.lines >= 0)
        o.lines = static_cast<std::size_t>(c.lines);
    else if (c.follow)
        o.lines = 10;
    if (!c.since.empty()) {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        auto since =
            runtime::parse_since(c.since, static_cast<std::uint64_t>(now.tv_sec) * 1000000 +
                                              static_cast<std::uint64_t>(now.tv_nsec) / 1000);
        if (!since)
            return fail(since.error());
        o.since_usec = *since;
    }
    // Following ends on Ctrl-C or SIGTERM, read from a signalfd: a clean return, exit code 0.
    UniqueFd stop_fd;
    if (c.follow) {
        sigset_t stop_signals;
        ::sigemptyset(&stop_signals);
        ::sigaddset(&stop_signals, SIGINT);
        ::sigaddset(&stop_signals, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
        int fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
        if (fd < 0)
            return fail(Error::from_errno("signalfd"));
        stop_fd = UniqueFd(fd);
    }
    auto st = runtime::logs(inv.paths, c.name, o, stop_fd ? stop_fd.get() : -1,
                            [&](const units::JournalEntry& e) {
                                c.json ? print_entry_json(e) : print_entry(e);
                                if (c.follow)
                                    std::fflush(stdout);
                            });
    return finish(st);
}

int do_check(const Invocation& inv, const CheckCmd& c) {
    runtime::HostCheck h = runtime::check_host(inv.paths);
    json levels = json::array();
    for (int abi = 1; abi <= landlock::kKnownAbi; ++abi)
        levels.push_back({{"abi", abi},
                          {"adds", landlock::added_by(abi)},
                          {"available", abi <= h.landlock_abi}});
    json j = {
        {"landlock", {{"abi", h.landlock_abi}, {"levels", levels}}},
        {"seccomp", h.seccomp},
        {"user_namespaces", h.user_namespaces},
        {"cgroup2", {{"mount", h.cgroup2}, {"controllers", h.cgroup2_controllers}}},
        {"systemd_nspawn", h.nspawn},
        {"system_bus", h.system_bus},
    };
    if (c.json) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    std::printf("Landlock         ABI %d%s\n", h.landlock_abi,
                h.landlock_abi == 0 ? " (not available: policies cannot be enforced)" : "");
    for (int abi = 1; abi <= landlock::kKnownAbi; ++abi)
        std::printf("  %s ABI %d: %s\n", abi <= h.landlock_abi ? "+" : "-", abi,
                    landlock::added_by(abi).c_str());
    std::printf("seccomp          %s\n", yes(h.seccomp));
    std::printf("user namespaces  %s\n", yes(h.user_namespaces));
    std::string controllers;
    for (const auto& ctl : h.cgroup2_controllers)
        controllers += (controllers.empty() ? "" : " ") + ctl;
    std::printf("cgroup2          %s (controllers: %s)\n",
                h.cgroup2.empty() ? "not mounted" : h.cgroup2.c_str(),
                controllers.empty() ? "none" : controllers.c_str());
    std::printf("systemd-nspawn   %s\n", yes(h.nspawn));
    std::printf("system bus       %s\n", yes(h.system_bus));
    return 0;
}

}  // namespace

int run(const Invocation& inv) {
    log::set_level(inv.verbosity >= 2   ? log::Level::debug
                   : inv.verbosity == 1 ? log::Level::info
                                        : log::Level::warn);
    return std::visit(
        [&](const auto& cmd) -> int {
            using T = std::decay_t<decltype(cmd)>;
            if constexpr (std::is_same_v<T, CreateCmd>)
                return do_create(inv, cmd);
            else if constexpr (std::is_same_v<T, BootCmd>)
                return finish(runtime::boot(inv.paths, cmd.name, cmd.options));
            else if constexpr (std::is_same_v<T, ExecCmd>)
                return do_exec(inv, cmd);
            else if constexpr (std::is_same_v<T, StopCmd>)
                return finish(runtime::stop(inv.paths, cmd.name, cmd.time, !cmd.no_block));
            else if constexpr (std::is_same_v<T, StartCmd>)
                return finish(runtime::start(inv.paths, cmd.name, !cmd.no_block, cmd.restart));
            else if constexpr (std::is_same_v<T, StatusCmd>)
                return do_status(inv, cmd);
            else if constexpr (std::is_same_v<T, LogsCmd>)
                return do_logs(inv, cmd);
            else if constexpr (std::is_same_v<T, DeleteCmd>)
                return finish(runtime::remove(inv.paths, cmd.name, cmd.force, cmd.time));
            else if constexpr (std::is_same_v<T, ListCmd>)
                return do_list(inv, cmd);
            else if constexpr (std::is_same_v<T, CheckCmd>)
                return do_check(inv, cmd);
            else if constexpr (std::is_same_v<T, UpdateCmd>)
                return do_update(inv, cmd);
            else if constexpr (std::is_same_v<T, StatsCmd>)
                return do_stats(inv, cmd);
            else if constexpr (std::is_same_v<T, PauseCmd>)
                return finish(runtime::pause(inv.paths, cmd.name, cmd.paused));
            else
                return do_inspect(inv, cmd);
        },
        inv.command);
}

}  // namespace volt::cli
