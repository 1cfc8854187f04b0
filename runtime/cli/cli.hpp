// The volt-run command line: parse() turns argv into an Invocation (or the text to print and
// the exit code, for --help, --version and usage errors) without printing or exiting, so it can
// be unit-tested; run() executes an Invocation and returns the process exit code.
#pragma once

#include <string>
#include <variant>

#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/verbs/bench.hpp"
#include "runtime/verbs/container.hpp"

namespace volt::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRuntime = 125;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

struct CreateCmd {
    runtime::CreateRequest request;
};
struct BootCmd {
    std::string name;
    runtime::BootOptions options;
};
struct ExecCmd {
    std::string name;
    runtime::ExecOptions options;
};
struct CpCmd {
    std::string src;  // NAME:PATH or a host path; parsed when run (runtime::parse_cp_operand)
    std::string dst;
};
struct CheckCmd {
    bool json = false;
};
struct UpdateCmd {
    std::string name;
    runtime::ResourceRequest limits;
};
struct StatsCmd {
    std::string name;
    bool json = false;
};
struct PauseCmd {
    std::string name;
};
struct ResumeCmd {
    std::string name;
};
struct StopCmd {
    std::string name;
    int time = 10;
    bool no_block = false;
};
struct StartCmd {
    std::string name;
    bool no_block = false;
};
struct RestartCmd {
    std::string name;
    bool no_block = false;
};
struct StatusCmd {
    std::string name;
    bool json = false;
};
struct LogsCmd {
    std::string name;
    bool follow = false;
    int lines = -1;     // -1: all (10 with --follow)
    std::string since;  // parsed when run, against the present
    bool json = false;
};
struct DeleteCmd {
    std::string name;
    bool force = false;
    int time = 10;
};
struct ListCmd {
    bool json = false;
};
struct InspectCmd {
    std::string name;
    bool json = false;
};
// image import SOURCE NAME | image list [--json] | image rm NAME: one verb with three
// subcommands, of which the parse sets `action`.
struct ImageCmd {
    enum class Action { none, import, list, remove };
    Action action = Action::none;
    std::string source;  // import
    std::string name;    // import, rm
    bool json = false;   // list
};
struct BenchCmd {
    runtime::BenchOptions options;
    bool json = false;
    std::string plot;  // --plot FILE: an SVG chart
};
// One alternative per verb, in the order of the table of verbs (verbs.cpp), which a
// static_assert there holds to it.
using Command = std::variant<CreateCmd, BootCmd, ExecCmd, CpCmd, StopCmd, DeleteCmd, ListCmd,
                             InspectCmd, CheckCmd, UpdateCmd, StatsCmd, PauseCmd, ResumeCmd,
                             StartCmd, RestartCmd, StatusCmd, LogsCmd, ImageCmd, BenchCmd>;

struct Invocation {
    runtime::Paths paths;
    int verbosity = 0;  // -v: info, -vv: debug
    Command command;
};

// Text to print and the exit code, when parsing ends the run (help, version, usage error).
struct Output {
    std::string text;
    int exit_code = 0;
    bool to_stderr = false;
};

// paths_from_env supplies the defaults that flags then override (Paths::from_environment()).
std::variant<Invocation, Output> parse(int argc, const char* const* argv,
                                       const runtime::Paths& paths_from_env);

int run(const Invocation& invocation);

}  // namespace volt::cli
