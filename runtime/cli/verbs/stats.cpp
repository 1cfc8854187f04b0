// volt-run stats NAME: the counters of a running container's cgroup.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_stats(CLI::App& sub, StatsCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("--json", c.json, "Print JSON");
}

int run_stats(const Invocation& inv, const StatsCmd& c) {
    auto s = runtime::stats(inv.paths, c.name);
    if (!s)
        return fail(s.error());
    nlohmann::json j = stats_json(*s);
    if (c.json)
        return print_json(j);
    for (auto& [k, v] : j.items())
        std::printf("%-16s %s\n", k.c_str(), v.is_null() ? "-" : text_of(v).c_str());
    return 0;
}

}  // namespace volt::cli::verbs
