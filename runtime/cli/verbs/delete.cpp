// volt-run delete NAME (rm): the container and everything it made.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_delete(CLI::App& sub, DeleteCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("-f,--force", c.force, "Stop the container first if it is running");
    sub.add_option("-t,--time", c.time, "With --force: seconds to wait for a clean halt")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
}

int run_delete(const Invocation& inv, const DeleteCmd& c) {
    return exit_code(runtime::remove(inv.paths, c.name, c.force, c.time));
}

}  // namespace volt::cli::verbs
