// volt-run start NAME / restart NAME: the container's unit, through systemd.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_start(CLI::App& sub, StartCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("--no-block", c.no_block, "Return once the job is queued, without waiting");
}

int run_start(const Invocation& inv, const StartCmd& c) {
    return exit_code(runtime::start(inv.paths, c.name, !c.no_block, false));
}

void add_restart(CLI::App& sub, RestartCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("--no-block", c.no_block, "Return once the job is queued, without waiting");
}

int run_restart(const Invocation& inv, const RestartCmd& c) {
    return exit_code(runtime::start(inv.paths, c.name, !c.no_block, true));
}

}  // namespace volt::cli::verbs
