#include "runtime/store/state.hpp"

#include <time.h>

#include <set>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "runtime/plan/json_map.hpp"
#include "units/units.hpp"

namespace volt::landlock {
// The recorded Landlock plan of ExecConfinement (found by argument-dependent lookup).
VOLT_JSON_FIELDS(PathRule, (path, rights), ())
VOLT_JSON_FIELDS(Plan,
                 (abi, handled_fs, handled_net, scopes, paths, bind_ports, connect_ports,
                  missing_fs, missing_net, missing_scopes),
                 ())
}  // namespace volt::landlock

namespace volt::runtime {

// state.json: the keys are the member names (jsonmap, runtime/plan/json_map.hpp). A member added
// later goes in the second list of its struct: files written before lack it and keep its default.
// The network is written only for a container that has one.
VOLT_JSON_FIELDS(NetworkState,
                 (bridge, netns, host_ifname, container_ifname, mac, address, prefix, gateway, dns,
                  ports),
                 ())
VOLT_JSON_FIELDS(ExecConfinement, (landlock_policy, landlock, seccomp_profile, seccomp_digest),
                 (seccomp_foreign_arches))
VOLT_JSON_FIELDS(State, (nspawn_pid, nspawn_start_time, cgroup, cgroup_v1, under_systemd, started),
                 (cgroup_devices, unenforced_controllers, network, exec, root_dev, root_ino))

std::string to_json(const State& s) {
    nlohmann::json j = s;
    if (s.network.empty())
        j.erase("network");
    if (!s.exec.recorded())
        j.erase("exec");
    if (s.root_dev == 0 && s.root_ino == 0) {  // the directory's own: nothing to record
        j.erase("root_dev");
        j.erase("root_ino");
    }
    return jsonmap::dump(j);
}

Result<State> state_from_json(const std::string& text) {
    VOLT_TRY_ASSIGN(nlohmann::json j, jsonmap::parse(text));
    return jsonmap::from<State>(j);
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
    const std::string leaf = s.under_systemd
                                 ? std::string("/").append(units::service_name(name)) + "/container"
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
    auto text = fs::read_record(paths.state_file(name), kMaxRecordBytes);
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

std::optional<std::int64_t> parse_utc(std::string_view text) {
    // Exactly "YYYY-MM-DDTHH:MM:SSZ": digits where utc_now writes them, and fields in range.
    constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
    if (text.size() != kShape.size())
        return std::nullopt;
    for (std::size_t i = 0; i < kShape.size(); ++i)
        if (kShape[i] == 'd' ? (text[i] < '0' || text[i] > '9') : text[i] != kShape[i])
            return std::nullopt;
    auto num = [&](std::size_t at, std::size_t len) {
        int v = 0;
        for (std::size_t i = at; i < at + len; ++i)
            v = v * 10 + (text[i] - '0');
        return v;
    };
    tm t{};
    t.tm_year = num(0, 4) - 1900;
    t.tm_mon = num(5, 2) - 1;
    t.tm_mday = num(8, 2);
    t.tm_hour = num(11, 2);
    t.tm_min = num(14, 2);
    t.tm_sec = num(17, 2);
    if (t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour > 23 || t.tm_min > 59 ||
        t.tm_sec > 60)
        return std::nullopt;
    tm normalized = t;
    time_t secs = ::timegm(&normalized);
    // timegm carries 2026-02-31 into March: a day the month lacks is not a time utc_now wrote.
    if (normalized.tm_mday != t.tm_mday)
        return std::nullopt;
    return static_cast<std::int64_t>(secs);
}

}  // namespace volt::runtime
