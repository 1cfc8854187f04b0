// What each verb's file (verbs/<verb>.cpp) gives the table in ../verbs.cpp: add_<verb> adds the
// verb's positionals and options to its subcommand, bound to the verb's command; run_<verb> runs
// it and returns the exit code.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cli/cli.hpp"

namespace CLI {
class App;
}

namespace volt::cli::verbs {

void add_create(CLI::App& sub, CreateCmd& c);
int run_create(const Invocation& inv, const CreateCmd& c);

void add_boot(CLI::App& sub, BootCmd& c);
int run_boot(const Invocation& inv, const BootCmd& c);

void add_exec(CLI::App& sub, ExecCmd& c);
// The command: what CLI11 left after NAME, then `tail` (the words after "--"); and the options
// that need more than CLI11 (--landlock-mode, -v).
std::optional<Output> finish_exec(const CLI::App& sub, std::vector<std::string> tail,
                                  Invocation& inv, ExecCmd& c);
int run_exec(const Invocation& inv, const ExecCmd& c);

void add_cp(CLI::App& sub, CpCmd& c);
int run_cp(const Invocation& inv, const CpCmd& c);

void add_stop(CLI::App& sub, StopCmd& c);
int run_stop(const Invocation& inv, const StopCmd& c);

void add_delete(CLI::App& sub, DeleteCmd& c);
int run_delete(const Invocation& inv, const DeleteCmd& c);

void add_list(CLI::App& sub, ListCmd& c);
int run_list(const Invocation& inv, const ListCmd& c);

void add_inspect(CLI::App& sub, InspectCmd& c);
int run_inspect(const Invocation& inv, const InspectCmd& c);
// inspect's JSON of one container, which `list --json` prints for each.
nlohmann::json container_json(const runtime::Paths& paths, const runtime::ContainerInfo& c);

void add_check(CLI::App& sub, CheckCmd& c);
int run_check(const Invocation& inv, const CheckCmd& c);

void add_update(CLI::App& sub, UpdateCmd& c);
int run_update(const Invocation& inv, const UpdateCmd& c);

void add_stats(CLI::App& sub, StatsCmd& c);
int run_stats(const Invocation& inv, const StatsCmd& c);

void add_pause(CLI::App& sub, PauseCmd& c);
int run_pause(const Invocation& inv, const PauseCmd& c);
void add_resume(CLI::App& sub, ResumeCmd& c);
int run_resume(const Invocation& inv, const ResumeCmd& c);

void add_start(CLI::App& sub, StartCmd& c);
int run_start(const Invocation& inv, const StartCmd& c);
void add_restart(CLI::App& sub, RestartCmd& c);
int run_restart(const Invocation& inv, const RestartCmd& c);

void add_status(CLI::App& sub, StatusCmd& c);
int run_status(const Invocation& inv, const StatusCmd& c);

void add_logs(CLI::App& sub, LogsCmd& c);
int run_logs(const Invocation& inv, const LogsCmd& c);

// Adds the subcommands import, list and rm, each setting c.action when it is parsed.
void add_image(CLI::App& sub, ImageCmd& c);
int run_image(const Invocation& inv, const ImageCmd& c);

void add_bench(CLI::App& sub, BenchCmd& c);
int run_bench(const Invocation& inv, const BenchCmd& c);

}  // namespace volt::cli::verbs
