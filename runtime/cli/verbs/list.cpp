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
    // Address, forwards and uptime are the run's: "-" for a container that is not running.
    auto row = [](const char* name, const char* state, const char* pid, const char* address,
                  const char* ports, const char* uptime, const char* network, const char* rootfs,
                  const char* image) {
        std::printf("%-20s %-8s %-8s %-15s %-18s %-8s %-8s %-7s %s\n", name, state, pid, address,
                    ports, uptime, network, rootfs, image);
    };
    row("NAME", "STATE", "PID", "ADDRESS", "PORTS", "UPTIME", "NETWORK", "ROOTFS", "IMAGE");
    for (const auto& info : *all) {
        if (!info.broken.empty()) {
            // The reason where the image would be: it names the damaged file.
            std::string why = std::string("(")
                                  .append(text::printable(info.broken))
                                  .append("; delete --force removes it)");
            row(info.spec.name.c_str(), state_word(info), "-", "-", "-", "-", "-", "-",
                why.c_str());
            continue;
        }
        std::string pid = "-", address = "-", ports = "-", uptime = "-";
        if (info.running) {
            pid = std::to_string(info.leader);
            if (info.state && !info.state->network.address.empty())
                address = info.state->network.address;
            if (info.state && !info.state->network.ports.empty()) {
                ports.clear();
                for (const auto& p : info.state->network.ports)
                    ports.append(ports.empty() ? "" : ",").append(p);
            }
            if (auto up = uptime_seconds(info))
                uptime = uptime_text(*up);
        }
        row(info.spec.name.c_str(), state_word(info), pid.c_str(), address.c_str(),
            text::printable(ports).c_str(), uptime.c_str(), runtime::to_string(info.spec.network),
            runtime::to_string(info.spec.rootfs), info.spec.image.c_str());
    }
    return 0;
}

}  // namespace volt::cli::verbs
