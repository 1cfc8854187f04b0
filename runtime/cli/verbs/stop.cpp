// volt-run stop NAME: through systemd when its unit started the container, else by itself.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_stop(CLI::App& sub, StopCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_option("-t,--time", c.time,
                   "Seconds to wait for a clean halt before killing (through systemd: the "
                   "unit's TimeoutStopSec=)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    sub.add_flag("--no-block", c.no_block,
                 "Through systemd: return once the stop job is queued, without waiting");
}

int run_stop(const Invocation& inv, const StopCmd& c) {
    return exit_code(runtime::stop(inv.paths, c.name, c.time, !c.no_block));
}

}  // namespace volt::cli::verbs
