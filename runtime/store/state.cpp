#include "runtime/store/state.hpp"

#include <time.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "units/units.hpp"

namespace volt::runtime {

using nlohmann::json;

std::string to_json(const State& s) {
    json j = {{"nspawn_pid", s.nspawn_pid},
              {"nspawn_start_time", s.nspawn_start_time},
              {"cgroup", s.cgroup},
              {"cgroup_v1", s.cgroup_v1},
              {"cgroup_devices", s.cgroup_devices},
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
        s.cgroup_devices = j.value("cgroup_devices", std::string());
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

namespace {

// Whether path names a cgroup strictly below mount whose last components are leaf: canonical,
// so that neither ".." nor "//" can lead elsewhere.
bool own_cgroup_path(const std::string& mount, const std::string& path, const std::string& leaf) {
    if (mount.empty() || mount[0] != '/' || text::has_control(path) || fs::absolute(path) != path)
        return false;
    const std::string base = mount == "/" ? "" : mount;
    if (!path.starts_with(base + "/"))
        return false;
    std::string rel = path.substr(base.size());
    return rel.ends_with(leaf);
}

}  // namespace

Result<std::string> check_state_cgroups(const cgroup::Mounts& mounts, const std::string& name,
                                        const State& s) {
    const std::string leaf = s.under_systemd ? "/" + units::service_name(name) + "/container"
                                             : "/volt.slice/volt-hybrid-" + name;
    auto refuse = [&](const char* which, const std::string& path, const std::string& mount) {
        return Error(0, std::string(which) + " '" + text::printable(path) +
                            "' is not the container's own (" +
                            (mount.empty() ? std::string("no such hierarchy") : mount) + "/..." +
                            leaf + ")");
    };
    if (s.cgroup.empty()) {
        if (s.nspawn_pid != 0)
            return Error(0, "a pid without a cgroup");
    } else if (!own_cgroup_path(mounts.unified, s.cgroup, leaf)) {
        return refuse("cgroup", s.cgroup, mounts.unified);
    }
    if (!s.cgroup_v1.empty() && !own_cgroup_path(mounts.named_systemd, s.cgroup_v1, leaf))
        return refuse("cgroup_v1", s.cgroup_v1, mounts.named_systemd);
    if (!s.cgroup_devices.empty() && !own_cgroup_path(mounts.devices, s.cgroup_devices, leaf))
        return refuse("cgroup_devices", s.cgroup_devices, mounts.devices);
    if (s.cgroup.empty())
        return std::string();
    return mounts.unified == "/" ? s.cgroup : s.cgroup.substr(mounts.unified.size());
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
    auto mounts = cgroup::find_mounts(paths.cgroup_root);
    Result<std::string> relative = mounts ? check_state_cgroups(*mounts, name, *s)
                                          : Result<std::string>(std::move(mounts).error());
    if (!relative) {
        // Once per process: stop and delete read the state more than once.
        static std::set<std::string> reported;
        if (reported.insert(paths.state_file(name)).second)
            log::warn("%s: %s; treating it as stale: no process or cgroup it names is touched",
                      paths.state_file(name).c_str(), relative.error().describe().c_str());
        s->nspawn_pid = 0;
        s->nspawn_start_time = 0;
        s->cgroup.clear();
        s->cgroup_v1.clear();
        s->cgroup_devices.clear();
    } else {
        s->cgroup_relative = *relative;
    }
    return std::optional<State>(std::move(s).value());
}

Status write_state(const Paths& paths, const std::string& name, const State& state) {
    VOLT_TRY(fs::mkdir_p(paths.state_dir(name), 0700));
    // Runtime state lives in /run and means nothing after a reboot: atomic, not durable.
    return fs::write_file_atomic(paths.state_file(name), to_json(state), 0600,
                                 fs::Durability::volatile_ok);
}

UniqueFd open_nspawn(const State& state) {
    if (state.nspawn_pid <= 0 || state.cgroup_relative.empty())
        return {};
    auto fd = proc::open_verified(state.nspawn_pid, state.nspawn_start_time);
    if (!fd)
        return {};
    // The pidfd pins the process; what /proc says of the pid now is said of it, if it is still
    // alive once read (a pid is reused only after the process is gone).
    auto text = fs::read_file("/proc/" + std::to_string(state.nspawn_pid) + "/cgroup");
    if (!text)
        return {};
    auto member = cgroup::parse_proc_cgroup(*text);
    if (!member || !proc::pidfd_alive(fd->get()))
        return {};
    const std::string& own = state.cgroup_relative;
    if (member->unified != own && !member->unified.starts_with(own + "/")) {
        static std::set<pid_t> reported;  // once per process, as in read_state
        if (reported.insert(state.nspawn_pid).second)
            log::warn(
                "process %d is not in the container's cgroup %s (it is in %s); not touching it",
                static_cast<int>(state.nspawn_pid), state.cgroup.c_str(),
                text::printable(member->unified).c_str());
        return {};
    }
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
