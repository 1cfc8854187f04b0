// volt-run pause NAME / resume NAME: freezing and thawing every process of a container.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_pause(CLI::App& sub, PauseCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
}

int run_pause(const Invocation& inv, const PauseCmd& c) {
    return exit_code(runtime::pause(inv.paths, c.name, true));
}

void add_resume(CLI::App& sub, ResumeCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
}

int run_resume(const Invocation& inv, const ResumeCmd& c) {
    return exit_code(runtime::pause(inv.paths, c.name, false));
}

}  // namespace volt::cli::verbs
