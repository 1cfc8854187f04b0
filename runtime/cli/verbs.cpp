#include "runtime/cli/verbs.hpp"

#include <type_traits>
#include <utility>
#include <variant>

#include "base/log.hpp"
#include "runtime/cli/verbs/entries.hpp"

namespace volt::cli {
namespace {

// The index of Cmd in Command; a type that is no alternative does not compile.
template <class Cmd, std::size_t I = 0>
constexpr std::size_t alternative_of() {
    if constexpr (std::is_same_v<std::variant_alternative_t<I, Command>, Cmd>)
        return I;
    else
        return alternative_of<Cmd, I + 1>();
}

// A row from a verb's typed functions: add_options makes `command` a Cmd before binding to it, and
// run takes the Cmd out of the invocation, so a row cannot run another verb's command.
template <class Cmd, void (*Add)(CLI::App&, Cmd&), int (*Run)(const Invocation&, const Cmd&)>
constexpr Verb row(std::string_view name, std::string_view alias, std::string_view summary) {
    return {
        name,
        alias,
        summary,
        alternative_of<Cmd>(),
        [](CLI::App& sub, Command& command) { Add(sub, command.template emplace<Cmd>()); },
        nullptr,
        [](const Invocation& inv) { return Run(inv, std::get<Cmd>(inv.command)); },
    };
}

// A row whose verb takes a command line of its own (Verb::finish).
template <class Cmd, void (*Add)(CLI::App&, Cmd&), int (*Run)(const Invocation&, const Cmd&),
          std::optional<Output> (*Finish)(const CLI::App&, std::vector<std::string>, Invocation&,
                                          Cmd&)>
constexpr Verb row_with_command(std::string_view name, std::string_view summary) {
    Verb v = row<Cmd, Add, Run>(name, "", summary);
    v.finish = [](const CLI::App& sub, std::vector<std::string> tail, Invocation& inv) {
        return Finish(sub, std::move(tail), inv, std::get<Cmd>(inv.command));
    };
    return v;
}

using namespace verbs;

// Every verb, in the order --help lists them, which is Command's.
//
// Adding a verb is one file and one row: its command struct goes into cli.hpp's Command at the
// position of its row, its file verbs/<verb>.cpp defines add_<verb> and run_<verb> (declared in
// verbs/entries.hpp), and its row goes here. Until the three agree, the static_assert below or
// the unit test "every verb in the table parses to its own alternative ..." fails.
constexpr Verb kVerbs[] = {
    row<CreateCmd, add_create, run_create>("create", "", "Create a container from an image"),
    row<BootCmd, add_boot, run_boot>(
        "boot", "", "Boot a container: the unit's ExecStart= helper, or by hand in the foreground"),
    row_with_command<ExecCmd, add_exec, run_exec, finish_exec>(
        "exec", "Run a command inside a running container: exec [OPTIONS] NAME -- CMD [ARGS...]"),
    row<CpCmd, add_cp, run_cp>(
        "cp", "",
        "Copy files into or out of a container, running or stopped: cp NAME:SRC DST, cp SRC "
        "NAME:DST"),
    row<StopCmd, add_stop, run_stop>(
        "stop", "",
        "Stop a running container: through systemd when its unit started it, else itself"),
    row<DeleteCmd, add_delete, run_delete>("delete", "rm",
                                           "Remove a container and everything it made"),
    row<ListCmd, add_list, run_list>("list", "ls", "List containers"),
    row<InspectCmd, add_inspect, run_inspect>("inspect", "",
                                              "Show a container's spec and runtime state"),
    row<CheckCmd, add_check, run_check>(
        "check", "",
        "Probe this host (Landlock, seccomp, cgroup2, nftables, nspawn, bus) and what it enforces"),
    row<UpdateCmd, add_update, run_update>(
        "update", "", "Change resource limits: live on a running container, and for the next boot"),
    row<StatsCmd, add_stats, run_stats>(
        "stats", "", "Memory, CPU, pids and OOM counters of a running container (its cgroup)"),
    row<PauseCmd, add_pause, run_pause>("pause", "", "Freeze every process of a running container"),
    row<ResumeCmd, add_resume, run_resume>("resume", "", "Thaw a paused container"),
    row<StartCmd, add_start, run_start>(
        "start", "", "Start the container's unit through systemd; returns once the guest is READY"),
    row<RestartCmd, add_restart, run_restart>(
        "restart", "", "Restart the container's unit through systemd, waiting for READY"),
    row<StatusCmd, add_status, run_status>(
        "status", "", "What systemd and machined report of the container's unit and machine"),
    row<LogsCmd, add_logs, run_logs>(
        "logs", "",
        "The container's messages: from the journal, or its console log without journald"),
    row<ImageCmd, add_image, run_image>(
        "image", "", "Images under ROOT/images: import a tarball or directory, list, rm"),
    row<BenchCmd, add_bench, run_bench>(
        "bench", "",
        "Time full lifecycles (create, boot, exec, stop, delete) on a scratch data root"),
};

constexpr bool one_row_per_alternative() {
    if (std::size(kVerbs) != std::variant_size_v<Command>)
        return false;
    for (std::size_t i = 0; i < std::size(kVerbs); ++i)
        if (kVerbs[i].alternative != i)
            return false;
    return true;
}
static_assert(one_row_per_alternative(),
              "kVerbs needs exactly one row per alternative of Command, in Command's order");

}  // namespace

std::span<const Verb> verb_table() {
    return kVerbs;
}

const Verb& verb_of(const Command& command) {
    return kVerbs[command.index()];  // one row per alternative, in order (the static_assert)
}

int run(const Invocation& inv) {
    log::set_level(inv.verbosity >= 2   ? log::Level::debug
                   : inv.verbosity == 1 ? log::Level::info
                                        : log::Level::warn);
    return verb_of(inv.command).run(inv);
}

}  // namespace volt::cli
