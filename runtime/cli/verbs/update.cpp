// volt-run update NAME [LIMITS]: new resource limits, live on a running container and for the
// next boot.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_update(CLI::App& sub, UpdateCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    add_limit_options(sub, c.limits);
}

int run_update(const Invocation& inv, const UpdateCmd& c) {
    auto spec = runtime::update(inv.paths, c.name, c.limits);
    if (!spec)
        return fail(spec.error());
    return 0;
}

}  // namespace volt::cli::verbs
