// volt-run status NAME: what systemd and machined report of the container's unit and machine.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_status(CLI::App& sub, StatusCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("--json", c.json, "Print JSON");
}

int run_status(const Invocation& inv, const StatusCmd& c) {
    using nlohmann::json;
    auto s = runtime::service_status(inv.paths, c.name);
    if (!s)
        return fail(s.error());
    const units::UnitStatus& u = s->unit_status;
    json machine = nullptr;
    if (s->machine)
        machine = {{"leader", s->machine->leader}, {"addresses", s->machine->addresses}};
    json j = {{"unit", s->unit},
              {"load_state", u.load_state},
              {"active_state", u.active_state},
              {"sub_state", u.sub_state},
              {"unit_file_state", u.unit_file_state},
              {"since", u.state_change_usec ? json(local_time(u.state_change_usec)) : json()},
              {"main_pid", u.main_pid},
              {"result", u.result},
              {"exec_main_status", u.exec_main_status},
              {"machine", machine}};
    if (c.json)
        return print_json(j);
    std::printf("%-10s %s\n", "unit", s->unit.c_str());
    std::printf("%-10s %s (%s)%s\n", "state", u.active_state.c_str(), u.sub_state.c_str(),
                u.load_state == "loaded" ? "" : (", " + u.load_state).c_str());
    std::printf("%-10s %s\n", "since", local_time(u.state_change_usec).c_str());
    std::printf("%-10s %s\n", "enabled",
                u.unit_file_state.empty() ? "-" : u.unit_file_state.c_str());
    std::printf("%-10s %s\n", "main pid", u.main_pid ? std::to_string(u.main_pid).c_str() : "-");
    if (!u.result.empty() && u.result != "success")
        std::printf("%-10s %s (status %d)\n", "result", u.result.c_str(), u.exec_main_status);
    if (s->machine) {
        std::string addrs;
        for (const auto& a : s->machine->addresses)
            addrs += (addrs.empty() ? "" : " ") + a;
        std::printf("%-10s %s, leader %d, addresses %s\n", "machine", c.name.c_str(),
                    static_cast<int>(s->machine->leader), addrs.empty() ? "-" : addrs.c_str());
    } else {
        std::printf("%-10s not registered\n", "machine");
    }
    return 0;
}

}  // namespace volt::cli::verbs
