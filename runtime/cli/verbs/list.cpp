// volt-run list (ls): one line per container, or inspect's JSON of each.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_list(CLI::App& sub, ListCmd& c) {
    sub.add_flag("--json", c.json, "Print JSON");
}

int run_list(const Invocation& inv, const ListCmd& c) {
    auto all = runtime::list(inv.paths);
    if (!all)
        return fail(all.error());
    if (c.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& info : *all)
            arr.push_back(container_json(inv.paths, info));
        return print_json(arr);
    }
    std::printf("%-24s %-8s %-8s %-8s %-8s %s\n", "NAME", "STATE", "PID", "INIT", "NETWORK",
                "IMAGE");
    for (const auto& info : *all) {
        if (!info.broken.empty()) {
            // The reason where the image would be: it names the damaged file.
            std::printf("%-24s %-8s %-8s %-8s %-8s (%s; delete --force removes it)\n",
                        info.spec.name.c_str(), state_word(info), "-", "-", "-",
                        text::printable(info.broken).c_str());
            continue;
        }
        std::string pid = info.running ? std::to_string(info.leader) : "-";
        std::printf("%-24s %-8s %-8s %-8s %-8s %s\n", info.spec.name.c_str(), state_word(info),
                    pid.c_str(), runtime::to_string(info.spec.init),
                    runtime::to_string(info.spec.network), info.spec.image.c_str());
    }
    return 0;
}

}  // namespace volt::cli::verbs
