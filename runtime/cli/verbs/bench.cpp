// volt-run bench --image IMG [--iterations N] [--network MODE] [--stop-time S] [--json]
// [--plot FILE] [--compare]: full lifecycles timed as a user sees them (runtime/verbs/bench.hpp).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/fs.hpp"
#include "base/text.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_bench(CLI::App& sub, BenchCmd& c) {
    runtime::BenchOptions& o = c.options;
    sub.add_option("--image", o.image, "Image directory, or a name under ROOT/images")->required();
    sub.add_option("--iterations", o.iterations, "Lifecycles to run")
        ->capture_default_str()
        ->check(CLI::Range(1, runtime::kMaxBenchIterations));
    sub.add_option("--network", o.network, "The containers' network: private or none")
        ->capture_default_str()
        ->check(CLI::IsMember({"private", "none"}));
    sub.add_option("--stop-time", o.stop_time,
                   "Seconds each stop waits for the guest to halt (stop --time)")
        ->capture_default_str()
        ->check(CLI::Range(0, 3600));
    sub.add_option("--rootfs", o.rootfs,
                   "create's --rootfs: copy, or overlay (the image imported into the scratch "
                   "root first, untimed)")
        ->capture_default_str()
        ->check(CLI::IsMember({"copy", "overlay"}));
    sub.add_flag("--compare", o.compare,
                 "Also time the same steps done with cp -a, sh, ip and nsenter, interleaved, and "
                 "print each ratio");
    sub.add_flag("--json", c.json, "Print JSON (schema volt-run-bench/2, every sample)");
    sub.add_option("--plot", c.plot, "Also write an SVG chart of the figures to FILE");
}

int run_bench(const Invocation& inv, const BenchCmd& c) {
    // Checked before the run, which can take minutes, rather than after it.
    if (!c.plot.empty() && !fs::is_directory(fs::dirname(fs::absolute(c.plot))))
        return fail(Error::usage("--plot: invalid value '" + text::printable(c.plot) +
                                 "': its directory does not exist"));
    auto report = runtime::bench(inv.paths, c.options);
    if (!report)
        return fail(report.error());
    if (!c.plot.empty())
        if (auto st = fs::write_file_atomic(c.plot, runtime::render_svg(*report)); !st)
            return fail(std::move(st).error().context("--plot"));
    std::fputs(
        c.json ? runtime::render_json(*report).c_str() : runtime::render_table(*report).c_str(),
        stdout);
    return 0;
}

}  // namespace volt::cli::verbs
