#include "runtime/state.hpp"

#include <time.h>

#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "base/proc.hpp"

namespace volt::runtime {

using nlohmann::json;

std::string to_json(const State& s) {
    json j = {{"nspawn_pid", s.nspawn_pid},
              {"nspawn_start_time", s.nspawn_start_time},
              {"cgroup", s.cgroup},
              {"cgroup_v1", s.cgroup_v1},
              {"under_systemd", s.under_systemd},
              {"started", s.started},
              {"unenforced_controllers", s.unenforced_controllers}};
    if (!s.network.empty()) {
        const NetworkState& n = s.network;
        j["network"] = {{"bridge", n.bridge},
                        {"netns", n.netns},
                        {"host_ifname", n.host_ifname},
                        {"container_ifname", n.container_ifname},
                        {"mac", n.mac},
                        {"address", n.address},
                        {"prefix", n.prefix},
                        {"gateway", n.gateway},
                        {"dns", n.dns},
                        {"ports", n.ports}};
    }
    return j.dump(2) + "\n";
}

Result<State> state_from_json(const std::string& text) {
    try {
        json j = json::parse(text);
        State s;
        s.nspawn_pid = j.at("nspawn_pid").get<pid_t>();
        s.nspawn_start_time = j.at("nspawn_start_time").get<std::uint64_t>();
        s.cgroup = j.at("cgroup").get<std::string>();
        s.cgroup_v1 = j.at("cgroup_v1").get<std::string>();
        s.under_systemd = j.at("under_systemd").get<bool>();
        s.started = j.at("started").get<std::string>();
        s.unenforced_controllers = j.value("unenforced_controllers", std::vector<std::string>{});
        if (j.contains("network")) {
            const json& n = j.at("network");
            NetworkState& ns = s.network;
            ns.bridge = n.at("bridge").get<std::string>();
            ns.netns = n.at("netns").get<std::string>();
            ns.host_ifname = n.at("host_ifname").get<std::string>();
            ns.container_ifname = n.at("container_ifname").get<std::string>();
            ns.mac = n.at("mac").get<std::string>();
            ns.address = n.at("address").get<std::string>();
            ns.prefix = n.at("prefix").get<int>();
            ns.gateway = n.at("gateway").get<std::string>();
            ns.dns = n.at("dns").get<std::vector<std::string>>();
            ns.ports = n.at("ports").get<std::vector<std::string>>();
        }
        return s;
    } catch (const json::exception& e) {
        return Error(EINVAL, std::string("malformed runtime state: ") + e.what());
    }
}

Result<std::optional<State>> read_state(const Paths& paths, const std::string& name) {
    auto text = fs::read_file(paths.state_file(name));
    if (!text) {
        if (text.error().code() == ENOENT)
            return std::optional<State>{};
        return std::move(text).error();
    }
    auto s = state_from_json(*text);
    if (!s)
        return std::move(s).error().context(paths.state_file(name));
    return std::optional<State>(std::move(s).value());
}

Status write_state(const Paths& paths, const std::string& name, const State& state) {
    VOLT_TRY(fs::mkdir_p(paths.state_dir(name), 0700));
    // Runtime state lives in /run and means nothing after a reboot: atomic, not durable.
    return fs::write_file_atomic(paths.state_file(name), to_json(state), 0600,
                                 fs::Durability::volatile_ok);
}

UniqueFd open_nspawn(const State& state) {
    if (state.nspawn_pid <= 0)
        return {};
    auto fd = proc::open_verified(state.nspawn_pid, state.nspawn_start_time);
    if (!fd)
        return {};
    return std::move(fd).value();
}

std::string utc_now() {
    time_t t = ::time(nullptr);
    tm tm_utc;
    ::gmtime_r(&t, &tm_utc);
    char buf[32];
    ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
    return buf;
}

}  // namespace volt::runtime
