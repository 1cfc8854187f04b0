#include <CLI/CLI.hpp>
#include <algorithm>

#include "base/text.hpp"
#include "netlink/address.hpp"
#include "runtime/cli/cli.hpp"

namespace volt::cli {
namespace {

constexpr const char* kFooter =
    "Exit codes: 0 success; 2 usage error; 125 volt-run failed; 126 the command cannot be "
    "executed; 127 the command was not found; 128+N killed by signal N (exec passes the "
    "command's own code through).";

// What each subcommand's callback fills in.
struct Targets {
    CreateCmd create;
    BootCmd boot;
    ExecCmd exec;
    StopCmd stop;
    DeleteCmd del;
    ListCmd list;
    InspectCmd inspect;
    CheckCmd check;
    UpdateCmd update;
    StatsCmd stats;
    PauseCmd pause, resume;
    StartCmd start, restart;
    StatusCmd status;
    LogsCmd logs;
    std::string exec_landlock_mode;  // converted after parsing
    int exec_verbosity = 0;
};

void add_global_options(CLI::App& app, Invocation& inv) {
    runtime::Paths& p = inv.paths;
    app.add_option("--root", p.root, "Data directory: containers/, images/, config/ (VOLT_ROOT)")
        ->capture_default_str();
    app.add_option("--unit-dir", p.unit_dir, "Where unit files are written (VOLT_UNIT_DIR)")
        ->capture_default_str();
    app.add_option("--nspawn-dir", p.nspawn_dir,
                   "Where .nspawn settings files are written (VOLT_NSPAWN_DIR)")
        ->capture_default_str();
    app.add_option("--run-dir", p.run_dir, "Runtime state directory (VOLT_RUN_DIR)")
        ->capture_default_str();
    app.add_option("--cgroup-root", p.cgroup_root,
                   "cgroup2 mount to use instead of the one found (VOLT_CGROUP_ROOT)");
    app.add_option("--subnet", p.subnet,
                   "Subnet of voltbr0 for --network private; its first address is the gateway "
                   "(VOLT_SUBNET)")
        ->capture_default_str();
    app.add_flag("-v,--verbose", inv.verbosity, "More output (-vv for debug)");
}

// The global paths, canonical (check_global_path), and the subnet: each bad value is one line
// naming the option, or the VOLT_* variable it came from, before any command runs.
std::optional<Output> check_global_options(const CLI::App& app, runtime::Paths& p) {
    struct Field {
        const char* flag;
        const char* variable;
        std::string& value;
    };
    for (Field f :
         {Field{"--root", "VOLT_ROOT", p.root}, Field{"--unit-dir", "VOLT_UNIT_DIR", p.unit_dir},
          Field{"--nspawn-dir", "VOLT_NSPAWN_DIR", p.nspawn_dir},
          Field{"--run-dir", "VOLT_RUN_DIR", p.run_dir},
          Field{"--cgroup-root", "VOLT_CGROUP_ROOT", p.cgroup_root}}) {
        bool given = app.count(f.flag) > 0;
        if (!given && f.value.empty())
            continue;  // --cgroup-root: found at run time
        auto canonical = runtime::check_global_path(given ? f.flag : f.variable, f.value);
        if (!canonical)
            return Output{"volt-run: " + canonical.error().describe() + "\n", kExitUsage, true};
        f.value = *canonical;
    }
    const char* subnet_option = app.count("--subnet") ? "--subnet" : "VOLT_SUBNET";
    if (text::has_control(p.subnet))
        return Output{std::string("volt-run: ") + subnet_option + ": invalid value '" +
                          text::printable(p.subnet) + "': control characters are not allowed\n",
                      kExitUsage, true};
    if (auto subnet = netlink::parse_subnet(p.subnet); !subnet)
        return Output{
            std::string("volt-run: ") + subnet_option + ": " + subnet.error().describe() + "\n",
            kExitUsage, true};
    return std::nullopt;
}

// The resource limit options, shared by create and update.
void add_limit_options(CLI::App& sub, runtime::ResourceRequest& r) {
    sub.add_option("--memory", r.memory, "Memory limit (memory.max), e.g. 512M, 2G");
    sub.add_option("--memory-high", r.memory_high, "Memory throttling point (memory.high)");
    sub.add_option("--memory-swap", r.memory_swap, "Swap limit (memory.swap.max)");
    sub.add_option("--cpus", r.cpus, "CPU bandwidth in CPUs (cpu.max), e.g. 1.5");
    sub.add_option("--cpuset", r.cpuset, "CPUs to run on (cpuset.cpus), e.g. 0-3,6");
    sub.add_option("--cpu-weight", r.cpu_weight, "CPU weight 1-10000 (cpu.weight)");
    sub.add_option("--io-weight", r.io_weight, "I/O weight 1-10000 (io.weight)");
    sub.add_option("--pids-max", r.pids_max, "Maximum number of processes (pids.max)");
}

void add_create(CLI::App& app, CreateCmd& c) {
    auto* sub = app.add_subcommand("create", "Create a container from an image");
    auto& r = c.request;
    sub->add_option("name", r.name, "Container name: letters, digits, '-', '_', '.'")->required();
    sub->add_option("--image", r.image, "Image directory, or a name under ROOT/images")->required();
    add_limit_options(*sub, r);
    sub->add_option("--missing-controllers", r.missing_controllers,
                    "refuse (default) or ignore: boot when a limit's cgroup controller is missing")
        ->capture_default_str();
    sub->add_option("--network", r.network, "private, host, none, or a bridge name")
        ->capture_default_str();
    sub->add_option("--dns", r.dns,
                    "Nameserver for the container's resolv.conf (repeatable; default: the "
                    "host's non-loopback ones, else 1.1.1.1 and 1.0.0.1)");
    sub->add_option("--port", r.ports, "Forward [tcp|udp:]HOST:CONTAINER (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--env", r.env, "KEY=VALUE for the container (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--volume", r.volumes, "HOST:CONTAINER[:ro|rw] bind mount (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--device", r.devices,
                    "PATH[:rwm] host device node bound into the container and allowed by its "
                    "device policy (repeatable; default access rwm)")
        ->allow_extra_args(false);
    sub->add_option("--seccomp", r.seccomp, "default, strict, unconfined, or a profile file")
        ->capture_default_str();
    sub->add_option("--landlock", r.landlock, "server, desktop, none, or a policy file")
        ->capture_default_str();
    sub->add_option("--seccomp-unknown-syscalls", r.seccomp_unknown,
                    "error or warn: what a syscall name libseccomp does not know is")
        ->capture_default_str();
    sub->add_option("--landlock-mode", r.landlock_mode,
                    "best-effort (enforce what the kernel can, report the level) or require")
        ->capture_default_str();
    sub->add_flag("--private-users,!--no-private-users", r.private_users,
                  "Run the container in its own user namespace (default: on)");
    sub->add_flag("--read-only", r.read_only, "Mount the root file system read-only");
    sub->add_option("--kernel", r.kernel, "Kernel image to record for the container");
    sub->add_flag("--start", r.start,
                  "Start the container's unit through systemd after create, waiting for READY");
    sub->add_flag("--enable", r.enable,
                  "Enable the unit, so that systemd boots the container with the host");
}

void add_boot(CLI::App& app, BootCmd& c) {
    auto* sub = app.add_subcommand(
        "boot", "Boot a container: the unit's ExecStart= helper, or by hand in the foreground");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("-d,--detach", c.options.detach,
                  "Boot in the background and return once the container is READY");
    sub->add_option("--timeout", c.options.ready_timeout_seconds,
                    "With --detach: seconds to wait for READY")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
}

void add_exec(CLI::App& app, ExecCmd& c, Targets& t) {
    auto* sub = app.add_subcommand(
        "exec", "Run a command inside a running container: exec [OPTIONS] NAME -- CMD [ARGS...]");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_option("-e,--env", c.options.env, "KEY=VALUE for the command (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("-w,--workdir", c.options.workdir, "Working directory inside the container");
    sub->add_option("--seccomp", c.options.seccomp,
                    "default, strict, unconfined or a profile file, instead of the container's");
    sub->add_option("--landlock-mode", t.exec_landlock_mode,
                    "best-effort or require, instead of the container's");
    sub->add_flag("-v,--verbose", t.exec_verbosity,
                  "Report what is enforced (Landlock level, skipped paths)");
    sub->add_flag("--allow-new-privileges", c.options.allow_new_privileges,
                  "Let setuid files and file capabilities raise the command's privileges "
                  "(no_new_privs is set by default)");
    // The command is not a CLI11 positional: everything from the first word after NAME belongs
    // to it, options included and in order ("exec web ls -l" as well as "exec web -- ls -l").
    sub->prefix_command();
}

void add_stop(CLI::App& app, StopCmd& c) {
    auto* sub = app.add_subcommand(
        "stop", "Stop a running container: through systemd when its unit started it, else itself");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_option("-t,--time", c.time,
                    "Seconds to wait for a clean halt before killing (through systemd: the "
                    "unit's TimeoutStopSec=)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    sub->add_flag("--no-block", c.no_block,
                  "Through systemd: return once the stop job is queued, without waiting");
}

void add_start(CLI::App& app, StartCmd& c, bool restart) {
    c.restart = restart;
    auto* sub = app.add_subcommand(
        restart ? "restart" : "start",
        restart ? "Restart the container's unit through systemd, waiting for READY"
                : "Start the container's unit through systemd; returns once the guest is READY");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("--no-block", c.no_block, "Return once the job is queued, without waiting");
}

void add_status(CLI::App& app, StatusCmd& c) {
    auto* sub = app.add_subcommand(
        "status", "What systemd and machined report of the container's unit and machine");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("--json", c.json, "Print JSON");
}

void add_logs(CLI::App& app, LogsCmd& c) {
    auto* sub = app.add_subcommand(
        "logs", "The container's messages from the journal: its unit's and its guest's");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("-f,--follow", c.follow, "Wait for new messages until Ctrl-C");
    sub->add_option("-n,--lines", c.lines, "Only the last N messages (default: all; 10 with -f)")
        ->check(CLI::Range(0, 1000000));
    sub->add_option("--since", c.since,
                    "From this time: YYYY-MM-DD [HH:MM[:SS]], @UNIX-SECONDS, today, yesterday, "
                    "-5min");
    sub->add_flag("--json", c.json, "One JSON object per message, with every journal field");
}

void add_delete(CLI::App& app, DeleteCmd& c) {
    auto* sub = app.add_subcommand("delete", "Remove a container and everything it made");
    sub->alias("rm");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("-f,--force", c.force, "Stop the container first if it is running");
    sub->add_option("-t,--time", c.time, "With --force: seconds to wait for a clean halt")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
}

void add_list(CLI::App& app, ListCmd& c) {
    auto* sub = app.add_subcommand("list", "List containers");
    sub->alias("ls");
    sub->add_flag("--json", c.json, "Print JSON");
}

void add_check(CLI::App& app, CheckCmd& c) {
    auto* sub = app.add_subcommand(
        "check", "Probe this host: Landlock ABI, namespaces, cgroup2, systemd-nspawn, system bus");
    sub->add_flag("--json", c.json, "Print JSON");
}

void add_update(CLI::App& app, UpdateCmd& c) {
    auto* sub = app.add_subcommand(
        "update", "Change resource limits: live on a running container, and for the next boot");
    sub->add_option("name", c.name, "Container name")->required();
    add_limit_options(*sub, c.limits);
}

void add_stats(CLI::App& app, StatsCmd& c) {
    auto* sub = app.add_subcommand(
        "stats", "Memory, CPU, pids and OOM counters of a running container (its cgroup)");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("--json", c.json, "Print JSON");
}

void add_pause(CLI::App& app, PauseCmd& c, bool paused) {
    c.paused = paused;
    auto* sub = app.add_subcommand(
        paused ? "pause" : "resume",
        paused ? "Freeze every process of a running container" : "Thaw a paused container");
    sub->add_option("name", c.name, "Container name")->required();
}

void add_inspect(CLI::App& app, InspectCmd& c) {
    auto* sub = app.add_subcommand("inspect", "Show a container's spec and runtime state");
    sub->add_option("name", c.name, "Container name")->required();
    sub->add_flag("--json", c.json, "Print JSON");
}

// Every subcommand, in the order --help lists them.
struct Subcommand {
    std::string_view name;
    std::string_view alias;
    void (*add)(CLI::App&, Targets&);
};
constexpr Subcommand kSubcommands[] = {
    {"create", "", [](CLI::App& a, Targets& t) { add_create(a, t.create); }},
    {"boot", "", [](CLI::App& a, Targets& t) { add_boot(a, t.boot); }},
    {"exec", "", [](CLI::App& a, Targets& t) { add_exec(a, t.exec, t); }},
    {"stop", "", [](CLI::App& a, Targets& t) { add_stop(a, t.stop); }},
    {"delete", "rm", [](CLI::App& a, Targets& t) { add_delete(a, t.del); }},
    {"list", "ls", [](CLI::App& a, Targets& t) { add_list(a, t.list); }},
    {"inspect", "", [](CLI::App& a, Targets& t) { add_inspect(a, t.inspect); }},
    {"check", "", [](CLI::App& a, Targets& t) { add_check(a, t.check); }},
    {"update", "", [](CLI::App& a, Targets& t) { add_update(a, t.update); }},
    {"stats", "", [](CLI::App& a, Targets& t) { add_stats(a, t.stats); }},
    {"pause", "", [](CLI::App& a, Targets& t) { add_pause(a, t.pause, true); }},
    {"resume", "", [](CLI::App& a, Targets& t) { add_pause(a, t.resume, false); }},
    {"start", "", [](CLI::App& a, Targets& t) { add_start(a, t.start, false); }},
    {"restart", "", [](CLI::App& a, Targets& t) { add_start(a, t.restart, true); }},
    {"status", "", [](CLI::App& a, Targets& t) { add_status(a, t.status); }},
    {"logs", "", [](CLI::App& a, Targets& t) { add_logs(a, t.logs); }},
};

// The subcommand the command line names: its first word that is neither an option of `app` (the
// global ones) nor such an option's value. nullptr when that word names none (or there is none).
const Subcommand* named_subcommand(const CLI::App& app, const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 1 && a[0] == '-') {
            if (a.find('=') != std::string::npos)
                continue;
            for (const CLI::Option* opt : app.get_options())
                if (opt->get_type_size() > 0 && opt->check_name(a)) {
                    ++i;  // its value
                    break;
                }
            continue;
        }
        for (const auto& sub : kSubcommands)
            if (a == sub.name || (!sub.alias.empty() && a == sub.alias))
                return &sub;
        return nullptr;
    }
    return nullptr;
}

}  // namespace

std::variant<Invocation, Output> parse(int argc, const char* const* argv,
                                       const runtime::Paths& paths_from_env) {
    Invocation inv;
    inv.paths = paths_from_env;
    Targets t;
    CLI::App app("volt-run: low-level runtime for Volt's hybrid-native containers", "volt-run");
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("volt-run ") + VOLT_VERSION);
    app.require_subcommand(1);
    add_global_options(app, inv);
    std::vector<std::string> args(argv + 1, argv + argc);
    // Only the subcommand named is built when there is one: building all of them costs every
    // `exec` about 15 page faults and half a millisecond (docs/BENCHMARKS.md). Without one (help,
    // a typo), all are, so that help lists them and errors name them.
    if (const Subcommand* named = named_subcommand(app, args))
        named->add(app, t);
    else
        for (const auto& sub : kSubcommands)
            sub.add(app, t);
    for (auto* sub : app.get_subcommands({}))
        sub->footer(kFooter);

    // "exec NAME -- CMD ARGS…": everything after the first "--" following "exec" is the
    // command, verbatim; CLI11 only sees what comes before it.
    std::vector<std::string> exec_tail;
    auto exec_at = std::find(args.begin(), args.end(), "exec");
    if (exec_at != args.end()) {
        auto dashes = std::find(exec_at, args.end(), "--");
        if (dashes != args.end()) {
            exec_tail.assign(dashes + 1, args.end());
            args.erase(dashes, args.end());
        }
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp&) {
        // --help on a subcommand prints that subcommand's help.
        const CLI::App* target = &app;
        for (auto* sub : app.get_subcommands())
            if (sub->parsed())
                target = sub;
        return Output{target->help(), 0};
    } catch (const CLI::CallForAllHelp&) {
        return Output{app.help("", CLI::AppFormatMode::All), 0};
    } catch (const CLI::CallForVersion&) {
        return Output{std::string("volt-run ") + VOLT_VERSION + "\n", 0};
    } catch (const CLI::ParseError& e) {
        // "volt-run frobnicate": CLI11 only says a subcommand is required; name the word.
        if (app.get_subcommands().empty() && !app.remaining().empty())
            return Output{"volt-run: unknown command '" + app.remaining().front() +
                              "' (see volt-run --help)\n",
                          kExitUsage, true};
        return Output{std::string("volt-run: ") + e.what() + " (see volt-run --help)\n", kExitUsage,
                      true};
    }

    if (auto bad = check_global_options(app, inv.paths))
        return *bad;
    CLI::App* sub = app.get_subcommands().front();
    std::string name = sub->get_name();
    if (name == "create")
        inv.command = t.create;
    else if (name == "boot")
        inv.command = t.boot;
    else if (name == "exec") {
        // With prefix_command, the command's own arguments arrive as "remaining".
        for (auto& extra : sub->remaining())
            t.exec.options.argv.push_back(extra);
        t.exec.options.argv.insert(t.exec.options.argv.end(), exec_tail.begin(), exec_tail.end());
        if (!t.exec_landlock_mode.empty()) {
            auto mode = runtime::parse_landlock_mode("--landlock-mode", t.exec_landlock_mode);
            if (!mode)
                return Output{"volt-run: " + mode.error().describe() + "\n", kExitUsage, true};
            t.exec.options.landlock_mode = *mode;
        }
        inv.verbosity += t.exec_verbosity;
        inv.command = t.exec;
    } else if (name == "stop")
        inv.command = t.stop;
    else if (name == "delete")
        inv.command = t.del;
    else if (name == "list")
        inv.command = t.list;
    else if (name == "check")
        inv.command = t.check;
    else if (name == "update")
        inv.command = t.update;
    else if (name == "stats")
        inv.command = t.stats;
    else if (name == "pause")
        inv.command = t.pause;
    else if (name == "resume")
        inv.command = t.resume;
    else if (name == "start")
        inv.command = t.start;
    else if (name == "restart")
        inv.command = t.restart;
    else if (name == "status")
        inv.command = t.status;
    else if (name == "logs")
        inv.command = t.logs;
    else
        inv.command = t.inspect;
    return inv;
}

}  // namespace volt::cli
