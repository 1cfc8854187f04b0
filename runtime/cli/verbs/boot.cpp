// volt-run boot NAME [--detach]: the unit's ExecStart= helper, or a boot by hand.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_boot(CLI::App& sub, BootCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("-d,--detach", c.options.detach,
                 "Boot in the background and return once the container is READY");
    sub.add_option("--timeout", c.options.ready_timeout_seconds,
                   "With --detach: seconds to wait for READY")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
}

int run_boot(const Invocation& inv, const BootCmd& c) {
    auto code = runtime::boot(inv.paths, c.name, c.options);
    if (!code)
        return fail(code.error());
    return *code;
}

}  // namespace volt::cli::verbs
