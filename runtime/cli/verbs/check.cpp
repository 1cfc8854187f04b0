// volt-run check: what this host offers volt-run (Landlock ABI, seccomp, user namespaces,
// cgroup2 and its layout, systemd-nspawn, the system bus, nftables, IPv4 forwarding) and which of
// create's options it can therefore enforce.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "landlock/landlock.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/verbs/check.hpp"

namespace volt::cli::verbs {

void add_check(CLI::App& sub, CheckCmd& c) {
    sub.add_flag("--json", c.json, "Print JSON");
}

int run_check(const Invocation& inv, const CheckCmd& c) {
    using nlohmann::json;
    runtime::HostCheck h = runtime::check_host(inv.paths);
    json levels = json::array();
    for (int abi = 1; abi <= landlock::kKnownAbi; ++abi)
        levels.push_back({{"abi", abi},
                          {"adds", landlock::added_by(abi)},
                          {"available", abi <= h.landlock_abi}});
    json j = {
        {"landlock", {{"abi", h.landlock_abi}, {"levels", levels}}},
        {"seccomp", h.seccomp},
        {"user_namespaces", h.user_namespaces},
        {"cgroup2", {{"mount", h.cgroup2}, {"controllers", h.cgroup2_controllers}}},
        {"cgroup_layout", h.cgroup_layout},
        {"systemd_nspawn", h.nspawn},
        {"system_bus", h.system_bus},
        {"nftables", {{"available", h.nftables_error.empty()}, {"error", h.nftables_error}}},
        {"ip_forward", h.ip_forward},
        {"overlay", {{"available", h.overlay_error.empty()}, {"error", h.overlay_error}}},
        {"idmapped_lower_layer", {{"available", h.idmap_error.empty()}, {"error", h.idmap_error}}},
    };
    auto enforceable = runtime::enforceable_options(h);
    json options = json::array();
    for (const auto& e : enforceable)
        options.push_back({{"options", e.options}, {"enforced", e.enforced}, {"how", e.how}});
    j["create_options"] = options;
    if (c.json)
        return print_json(j);
    auto yes = [](bool b) { return b ? "yes" : "no"; };
    std::printf("Landlock         ABI %d%s\n", h.landlock_abi,
                h.landlock_abi == 0 ? " (not available: policies cannot be enforced)" : "");
    for (int abi = 1; abi <= landlock::kKnownAbi; ++abi)
        std::printf("  %s ABI %d: %s\n", abi <= h.landlock_abi ? "+" : "-", abi,
                    landlock::added_by(abi).c_str());
    std::printf("seccomp          %s\n", yes(h.seccomp));
    std::printf("user namespaces  %s\n", yes(h.user_namespaces));
    std::string controllers;
    for (const auto& ctl : h.cgroup2_controllers)
        controllers += (controllers.empty() ? "" : " ") + ctl;
    std::printf("cgroup2          %s (controllers: %s)\n",
                h.cgroup2.empty() ? "not mounted" : h.cgroup2.c_str(),
                controllers.empty() ? "none" : controllers.c_str());
    std::printf("cgroup layout    %s\n", h.cgroup_layout.c_str());
    std::printf("systemd-nspawn   %s\n", yes(h.nspawn));
    std::printf("system bus       %s\n", yes(h.system_bus));
    std::printf("nftables         %s\n",
                h.nftables_error.empty() ? "yes" : ("no (" + h.nftables_error + ")").c_str());
    std::printf("IPv4 forwarding  %s\n", h.ip_forward ? "on" : "off (boot turns it on)");
    std::printf("overlayfs        %s\n",
                h.overlay_error.empty() ? "yes" : ("no (" + h.overlay_error + ")").c_str());
    std::printf("id-mapped lower  %s\n",
                h.idmap_error.empty() ? "yes" : ("no (" + h.idmap_error + ")").c_str());
    std::printf("create options this host enforces:\n");
    for (const auto& e : enforceable)
        std::printf("  %s %s: %s\n", e.enforced ? "+" : "-", e.options.c_str(), e.how.c_str());
    return 0;
}

}  // namespace volt::cli::verbs
