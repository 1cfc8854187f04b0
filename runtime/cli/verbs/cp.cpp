// volt-run cp NAME:SRC DST / cp SRC NAME:DST: files into and out of a container.
#include <CLI/CLI.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_cp(CLI::App& sub, CpCmd& c) {
    sub.add_option("src", c.src, "What to copy: NAME:PATH in a container, or a host path")
        ->required();
    sub.add_option("dst", c.dst,
                   "Where to: a host path, or NAME:PATH; an existing directory receives SRC "
                   "under its name")
        ->required();
}

int run_cp(const Invocation& inv, const CpCmd& c) {
    auto src = runtime::parse_cp_operand(c.src);
    if (!src)
        return fail(src.error());
    auto dst = runtime::parse_cp_operand(c.dst);
    if (!dst)
        return fail(dst.error());
    return exit_code(runtime::copy(inv.paths, *src, *dst));
}

}  // namespace volt::cli::verbs
