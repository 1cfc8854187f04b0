#include "runtime/plan/spec.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/options.hpp"
#include "seccomp-profiles/seccomp.hpp"

namespace volt::runtime {
namespace {

using nlohmann::json;

// A built-in profile name, or an existing file given as a path (stored absolute).
Result<std::string> parse_profile(const char* option, const std::string& value,
                                  std::initializer_list<const char*> builtins) {
    for (const char* b : builtins)
        if (value == b)
            return value;
    if (value.find('/') == std::string::npos) {
        std::string names;
        for (const char* b : builtins)
            names += std::string(names.empty() ? "" : ", ") + b;
        return Error::usage(std::string(option) + ": invalid value '" + value +
                            "': expected one of " + names + " or a path to a profile file");
    }
    std::string path = fs::absolute(value);
    struct stat st;
    if (::stat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode))
        return Error::usage(std::string(option) + ": invalid value '" + value +
                            "': no such profile file");
    return path;
}

}  // namespace

const char* to_string(LandlockMode mode) {
    return mode == LandlockMode::require ? "require" : "best-effort";
}

Result<LandlockMode> parse_landlock_mode(const std::string& option, const std::string& value) {
    if (value == "best-effort")
        return LandlockMode::best_effort;
    if (value == "require")
        return LandlockMode::require;
    return Error::usage(option + ": invalid value '" + value +
                        "': expected best-effort or require");
}

namespace {

template <class T>
json optional_json(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

template <class T>
void optional_from(const json& j, const char* key, std::optional<T>& out) {
    if (j.contains(key) && !j.at(key).is_null())
        out = j.at(key).get<T>();
}

}  // namespace

std::string to_string(const PortForward& port) {
    return port.protocol + ":" + std::to_string(port.host) + ":" + std::to_string(port.container);
}

const char* to_string(NetworkMode mode) {
    switch (mode) {
        case NetworkMode::private_net:
            return "private";
        case NetworkMode::host:
            return "host";
        case NetworkMode::none:
            return "none";
        case NetworkMode::bridge:
            return "bridge";
    }
    return "?";
}

const char* to_string(InitKind kind) {
    switch (kind) {
        case InitKind::systemd:
            return "systemd";
        case InitKind::busybox:
            return "busybox";
        case InitKind::other:
            return "other";
    }
    return "?";
}

Result<Resources> parse_resources(const ResourceRequest& r) {
    auto size = [](const char* opt, const std::string& v,
                   std::optional<std::uint64_t>& out) -> Status {
        if (v.empty())
            return {};
        auto n = parse_size(opt, v);
        if (!n)
            return std::move(n).error();
        out = *n;
        return {};
    };
    auto weight = [](const char* opt, const std::string& v, std::optional<std::uint32_t>& out,
                     std::uint64_t min, std::uint64_t max) -> Status {
        if (v.empty())
            return {};
        auto n = parse_uint(opt, v, min, max);
        if (!n)
            return std::move(n).error();
        out = static_cast<std::uint32_t>(*n);
        return {};
    };
    Resources res;
    VOLT_TRY(size("--memory", r.memory, res.memory_max));
    VOLT_TRY(size("--memory-high", r.memory_high, res.memory_high));
    VOLT_TRY(size("--memory-swap", r.memory_swap, res.memory_swap_max));
    if (res.memory_max && res.memory_high && *res.memory_high > *res.memory_max)
        return Error::usage("--memory-high: invalid value '" + r.memory_high +
                            "': above --memory " + r.memory);
    if (!r.cpus.empty()) {
        auto c = parse_cpus("--cpus", r.cpus);
        if (!c)
            return std::move(c).error();
        res.cpus_milli = *c;
    }
    if (!r.cpuset.empty()) {
        auto c = parse_cpuset("--cpuset", r.cpuset);
        if (!c)
            return std::move(c).error();
        res.cpuset = *c;
    }
    VOLT_TRY(weight("--cpu-weight", r.cpu_weight, res.cpu_weight, 1, 10000));
    VOLT_TRY(weight("--io-weight", r.io_weight, res.io_weight, 1, 10000));
    if (!r.pids_max.empty()) {
        auto n = parse_uint("--pids-max", r.pids_max, 1, 4194304);
        if (!n)
            return std::move(n).error();
        res.pids_max = *n;
    }

    return res;
}

Resources merge(Resources base, const Resources& c) {
    auto take = [](auto& into, const auto& from) {
        if (from)
            into = from;
    };
    take(base.memory_max, c.memory_max);
    take(base.memory_high, c.memory_high);
    take(base.memory_swap_max, c.memory_swap_max);
    take(base.cpus_milli, c.cpus_milli);
    take(base.cpuset, c.cpuset);
    take(base.cpu_weight, c.cpu_weight);
    take(base.io_weight, c.io_weight);
    take(base.pids_max, c.pids_max);
    return base;
}

Result<Spec> build_spec(const CreateRequest& r) {
    VOLT_TRY(validate_new_name(r.name));
    // Text that is stored as it was given: checked before anything else, so that no later
    // step (the JSON of the spec above all) meets bytes it cannot hold.
    for (const auto& [option, value] :
         {std::pair<const char*, const std::string&>{"--image", r.image},
          {"--kernel", r.kernel},
          {"--seccomp", r.seccomp},
          {"--landlock", r.landlock}})
        VOLT_TRY(check_text(option, value));
    Spec s;
    s.name = r.name;

    auto resources = parse_resources(r);
    if (!resources)
        return std::move(resources).error();
    s.resources = *resources;
    if (r.missing_controllers != "refuse" && r.missing_controllers != "ignore")
        return Error::usage("--missing-controllers: invalid value '" + r.missing_controllers +
                            "': expected refuse or ignore");
    s.missing_controllers_ok = r.missing_controllers == "ignore";

    if (r.network == "private")
        s.network = NetworkMode::private_net;
    else if (r.network == "host")
        s.network = NetworkMode::host;
    else if (r.network == "none")
        s.network = NetworkMode::none;
    else {
        VOLT_TRY(validate_ifname("--network", r.network));
        s.network = NetworkMode::bridge;
        s.bridge = r.network;
    }
    // Each forward is two DNAT rules in one nftables batch; past this many the batch and its
    // acknowledgements outgrow what one netlink exchange is tested to carry (tests/privileged).
    if (r.ports.size() > kMaxPortForwards)
        return Error::usage("--port: " + std::to_string(r.ports.size()) +
                            " forwards given; a container takes at most " +
                            std::to_string(kMaxPortForwards));
    for (const auto& p : r.ports) {
        auto pf = parse_port(p);
        if (!pf)
            return std::move(pf).error();
        if (s.network != NetworkMode::private_net && s.network != NetworkMode::bridge)
            return Error::usage("--port: invalid value '" + p +
                                "': ports are forwarded only with "
                                "--network private or a bridge, not " +
                                r.network);
        for (const auto& other : s.ports)
            if (other.protocol == pf->protocol && other.host == pf->host)
                return Error::usage("--port: invalid value '" + p + "': host port " +
                                    std::to_string(pf->host) + "/" + pf->protocol +
                                    " is forwarded twice");
        s.ports.push_back(*pf);
    }
    for (const auto& d : r.dns) {
        unsigned char buf[sizeof(in6_addr)];
        if (::inet_pton(AF_INET, d.c_str(), buf) != 1 && ::inet_pton(AF_INET6, d.c_str(), buf) != 1)
            return Error::usage("--dns: invalid value '" + d + "': not an IPv4 or IPv6 address");
        if (s.network == NetworkMode::host || s.network == NetworkMode::none)
            return Error::usage("--dns: invalid value '" + d +
                                "': nameservers are set only with --network private or a "
                                "bridge, not " +
                                r.network);
        s.dns.push_back(d);
    }
    for (const auto& e : r.env) {
        auto v = parse_env("--env", e);
        if (!v)
            return std::move(v).error();
        s.env.push_back(*v);
    }
    for (const auto& v : r.volumes) {
        auto vol = parse_volume(v);
        if (!vol)
            return std::move(vol).error();
        for (const auto& other : s.volumes)
            if (other.container == vol->container)
                return Error::usage("--volume: invalid value '" + v + "': " + vol->container +
                                    " is mounted twice");
        s.volumes.push_back(*vol);
    }
    for (const auto& d : r.devices) {
        auto dev = parse_device(d);
        if (!dev)
            return std::move(dev).error();
        for (const auto& other : s.devices)
            if (other.path == dev->path)
                return Error::usage("--device: invalid value '" + d + "': " + dev->path +
                                    " is given twice");
        s.devices.push_back(*dev);
    }
    auto seccomp = parse_profile("--seccomp", r.seccomp, {"default", "strict", "unconfined"});
    if (!seccomp)
        return std::move(seccomp).error();
    s.seccomp = *seccomp;
    auto landlock = parse_profile("--landlock", r.landlock, {"server", "desktop", "none"});
    if (!landlock)
        return std::move(landlock).error();
    s.landlock = *landlock;
    if (s.landlock.front() == '/') {
        // A custom policy is checked now; create keeps a copy beside the spec.
        auto text = fs::read_file(s.landlock);
        if (!text)
            return Error::usage("--landlock: cannot read '" + s.landlock +
                                "': " + text.error().describe());
        VOLT_TRY(landlock::parse_policy(*text, s.landlock));
    }
    if (r.seccomp_unknown != "error" && r.seccomp_unknown != "warn")
        return Error::usage("--seccomp-unknown-syscalls: invalid value '" + r.seccomp_unknown +
                            "': expected error or warn");
    s.seccomp_unknown_warn = r.seccomp_unknown == "warn";
    if (s.seccomp.front() == '/') {
        // A custom profile is compiled now, so that its errors show at create.
        auto text = fs::read_file(s.seccomp);
        if (!text)
            return Error::usage("--seccomp: cannot read '" + s.seccomp +
                                "': " + text.error().describe());
        seccomp::CompileOptions options;
        options.unknown_syscalls_warn = s.seccomp_unknown_warn;
        VOLT_TRY(seccomp::compile(*text, s.seccomp, options));
    }
    auto mode = parse_landlock_mode("--landlock-mode", r.landlock_mode);
    if (!mode)
        return std::move(mode).error();
    s.landlock_mode = *mode;
    s.private_users = r.private_users;
    s.read_only = r.read_only;
    if (!r.kernel.empty()) {
        std::string k = fs::absolute(r.kernel);
        struct stat st;
        if (::stat(k.c_str(), &st) < 0 || !S_ISREG(st.st_mode))
            return Error::usage("--kernel: invalid value '" + r.kernel + "': no such file");
        s.kernel = k;
    }
    s.start = r.start;
    return s;
}

std::string to_json(const Spec& s) {
    json ports = json::array();
    for (const auto& p : s.ports)
        ports.push_back({{"protocol", p.protocol}, {"host", p.host}, {"container", p.container}});
    json volumes = json::array();
    for (const auto& v : s.volumes)
        volumes.push_back({{"host", v.host},
                           {"container", v.container},
                           {"read_only", v.read_only},
                           {"kind", v.kind}});
    json devices = json::array();
    for (const auto& d : s.devices)
        devices.push_back({{"path", d.path}, {"access", d.access}});
    const Resources& r = s.resources;
    json j = {
        {"version", Spec::kVersion},
        {"name", s.name},
        {"image", s.image},
        {"created", s.created},
        {"init", to_string(s.init)},
        {"resources",
         {{"memory_max", optional_json(r.memory_max)},
          {"memory_high", optional_json(r.memory_high)},
          {"memory_swap_max", optional_json(r.memory_swap_max)},
          {"cpus_milli", optional_json(r.cpus_milli)},
          {"cpuset", optional_json(r.cpuset)},
          {"cpu_weight", optional_json(r.cpu_weight)},
          {"io_weight", optional_json(r.io_weight)},
          {"pids_max", optional_json(r.pids_max)}}},
        {"network",
         {{"mode", to_string(s.network)}, {"bridge", s.bridge}, {"ports", ports}, {"dns", s.dns}}},
        {"env", s.env},
        {"volumes", volumes},
        {"devices", devices},
        {"seccomp", s.seccomp},
        {"landlock", s.landlock},
        {"landlock_mode", to_string(s.landlock_mode)},
        {"seccomp_unknown_syscalls", s.seccomp_unknown_warn ? "warn" : "error"},
        {"missing_controllers", s.missing_controllers_ok ? "ignore" : "refuse"},
        {"private_users", s.private_users},
        {"read_only", s.read_only},
        {"kernel", s.kernel},
        {"start", s.start},
    };
    return j.dump(2) + "\n";
}

Result<Spec> spec_from_json(const std::string& text) {
    try {
        json j = json::parse(text);
        if (j.at("version").get<int>() != Spec::kVersion)
            return Error(EINVAL, "unsupported spec version " + j.at("version").dump());
        Spec s;
        s.name = j.at("name").get<std::string>();
        s.image = j.at("image").get<std::string>();
        s.created = j.at("created").get<std::string>();
        std::string init = j.at("init").get<std::string>();
        s.init = init == "systemd"   ? InitKind::systemd
                 : init == "busybox" ? InitKind::busybox
                                     : InitKind::other;
        const json& r = j.at("resources");
        optional_from(r, "memory_max", s.resources.memory_max);
        optional_from(r, "memory_high", s.resources.memory_high);
        optional_from(r, "memory_swap_max", s.resources.memory_swap_max);
        optional_from(r, "cpus_milli", s.resources.cpus_milli);
        optional_from(r, "cpuset", s.resources.cpuset);
        optional_from(r, "cpu_weight", s.resources.cpu_weight);
        optional_from(r, "io_weight", s.resources.io_weight);
        optional_from(r, "pids_max", s.resources.pids_max);
        const json& n = j.at("network");
        std::string mode = n.at("mode").get<std::string>();
        if (mode == "private")
            s.network = NetworkMode::private_net;
        else if (mode == "host")
            s.network = NetworkMode::host;
        else if (mode == "none")
            s.network = NetworkMode::none;
        else if (mode == "bridge")
            s.network = NetworkMode::bridge;
        else
            return Error(EINVAL, "unknown network mode " + mode);
        s.bridge = n.at("bridge").get<std::string>();
        for (const auto& p : n.at("ports"))
            s.ports.push_back({p.at("protocol").get<std::string>(),
                               p.at("host").get<std::uint16_t>(),
                               p.at("container").get<std::uint16_t>()});
        s.dns = n.value("dns", std::vector<std::string>{});
        s.env = j.at("env").get<std::vector<std::string>>();
        for (const auto& v : j.at("volumes"))
            s.volumes.push_back({v.at("host").get<std::string>(),
                                 v.at("container").get<std::string>(),
                                 v.at("read_only").get<bool>(), v.value("kind", std::string())});
        if (j.contains("devices"))  // absent in specs written before --device
            for (const auto& d : j.at("devices"))
                s.devices.push_back(
                    {d.at("path").get<std::string>(), d.at("access").get<std::string>()});
        s.seccomp = j.at("seccomp").get<std::string>();
        s.landlock = j.at("landlock").get<std::string>();
        auto landlock_mode = parse_landlock_mode(
            "landlock_mode", j.value("landlock_mode", std::string("best-effort")));
        if (!landlock_mode)
            return std::move(landlock_mode).error();
        s.landlock_mode = *landlock_mode;
        s.seccomp_unknown_warn =
            j.value("seccomp_unknown_syscalls", std::string("error")) == "warn";
        s.missing_controllers_ok =
            j.value("missing_controllers", std::string("refuse")) == "ignore";
        s.private_users = j.at("private_users").get<bool>();
        s.read_only = j.at("read_only").get<bool>();
        s.kernel = j.at("kernel").get<std::string>();
        s.start = j.at("start").get<bool>();
        return s;
    } catch (const json::exception& e) {
        return Error(EINVAL, std::string("malformed spec: ") + e.what());
    }
}

}  // namespace volt::runtime
