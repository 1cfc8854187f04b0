#include "runtime/plan/spec.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include "base/fs.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/json_map.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/plan/paths.hpp"
#include "seccomp-profiles/seccomp.hpp"

// spec.json's mapping (jsonmap, json_map.hpp): the keys are the member names, and a key added
// after the first release goes in the second list of its struct, so that older files keep the
// member's default. Each mapping is in its type's namespace, where argument-dependent lookup
// finds it.

namespace volt::cgroup {
// "resources": a limit that is not set is written as null; an absent key reads the same.
VOLT_JSON_FIELDS(Limits, (),
                 (memory_max, memory_high, memory_swap_max, cpus_milli, cpuset, cpu_weight,
                  io_weight, pids_max))
}  // namespace volt::cgroup

namespace volt::runtime {

VOLT_JSON_ENUM(NetworkMode, {{NetworkMode::private_net, "private"},
                             {NetworkMode::host, "host"},
                             {NetworkMode::none, "none"},
                             {NetworkMode::bridge, "bridge"}})
VOLT_JSON_ENUM(InitKind, {{InitKind::systemd, "systemd"},
                          {InitKind::busybox, "busybox"},
                          {InitKind::other, "other"}})
VOLT_JSON_ENUM(RootfsMode, {{RootfsMode::copy, "copy"}, {RootfsMode::overlay, "overlay"}})
VOLT_JSON_ENUM(LandlockMode,
               {{LandlockMode::best_effort, "best-effort"}, {LandlockMode::require, "require"}})
VOLT_JSON_FIELDS(PortForward, (protocol, host, container), ())
// No kind or idmap in older files.
VOLT_JSON_FIELDS(Volume, (host, container, read_only), (kind, idmap))
VOLT_JSON_FIELDS(Device, (path, access), ())

namespace {

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
    const char* name = jsonmap::name_of(volt_json_names(LandlockMode{}), mode);
    return name ? name : "?";
}

Result<LandlockMode> parse_landlock_mode(const std::string& option, const std::string& value) {
    for (const auto& [mode, name] : volt_json_names(LandlockMode{}))
        if (value == name)
            return mode;
    return Error::usage(option + ": invalid value '" + text::printable(value) +
                        "': expected best-effort or require");
}

std::string to_string(const PortForward& port) {
    return port.protocol + ":" + std::to_string(port.host) + ":" + std::to_string(port.container);
}

std::optional<PortForward> clashing_port(const std::vector<PortForward>& mine,
                                         const std::vector<PortForward>& theirs) {
    for (const auto& m : mine)
        for (const auto& t : theirs)
            if (m.protocol == t.protocol && m.host == t.host)
                return m;
    return std::nullopt;
}

Error port_claimed(const PortForward& port, const std::string& other, const std::string& how) {
    return Error::usage("--port " + to_string(port) + ": host port " + std::to_string(port.host) +
                        "/" + port.protocol + " is forwarded to container " + other + " already (" +
                        how + ")");
}

const char* to_string(NetworkMode mode) {
    const char* name = jsonmap::name_of(volt_json_names(NetworkMode{}), mode);
    return name ? name : "?";
}

const char* to_string(InitKind kind) {
    const char* name = jsonmap::name_of(volt_json_names(InitKind{}), kind);
    return name ? name : "?";
}

const char* to_string(RootfsMode mode) {
    const char* name = jsonmap::name_of(volt_json_names(RootfsMode{}), mode);
    return name ? name : "?";
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

Result<Spec> build_spec(const CreateRequest& r, CustomFiles* files) {
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
        return Error::usage("--missing-controllers: invalid value '" +
                            text::printable(r.missing_controllers) +
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
            return Error::usage("--dns: invalid value '" + text::printable(d) +
                                "': not an IPv4 or IPv6 address");
        if (s.network == NetworkMode::host || s.network == NetworkMode::none)
            return Error::usage("--dns: invalid value '" + d +
                                "': nameservers are set only with --network private or a "
                                "bridge, not " +
                                r.network);
        s.dns.push_back(d);
    }
    std::size_t env_bytes = 0;
    for (const auto& e : r.env) {
        auto v = parse_env("--env", e);
        if (!v)
            return std::move(v).error();
        env_bytes += e.size() + 1;
        if (env_bytes > kMaxEnvTotalBytes)
            return Error::usage("--env: " + std::to_string(r.env.size()) +
                                " entries hold more than " + std::to_string(kMaxEnvTotalBytes) +
                                " bytes together, the most a container takes");
        s.env.push_back(*v);
    }
    for (const auto& v : r.volumes) {
        auto vol = parse_volume(v, r.private_users);
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
        auto text = fs::read_record(s.landlock, kMaxRecordBytes, true);
        if (!text)
            return Error::usage("--landlock: cannot read '" + s.landlock +
                                "': " + text.error().describe());
        VOLT_TRY(landlock::parse_policy(*text, s.landlock));
        if (files)
            files->landlock_policy = std::move(text).value();
    }
    if (r.seccomp_unknown != "error" && r.seccomp_unknown != "warn")
        return Error::usage("--seccomp-unknown-syscalls: invalid value '" +
                            text::printable(r.seccomp_unknown) + "': expected error or warn");
    s.seccomp_unknown_warn = r.seccomp_unknown == "warn";
    if (s.seccomp.front() == '/') {
        // A custom profile is compiled now, so that its errors show at create.
        auto text = fs::read_record(s.seccomp, kMaxProfileBytes, true);
        if (!text)
            return Error::usage("--seccomp: cannot read '" + s.seccomp +
                                "': " + text.error().describe());
        seccomp::CompileOptions options;
        options.unknown_syscalls_warn = s.seccomp_unknown_warn;
        VOLT_TRY(seccomp::compile(*text, s.seccomp, options));
        if (files)
            files->seccomp_profile = std::move(text).value();
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
    if (r.rootfs == "copy")
        s.rootfs = RootfsMode::copy;
    else if (r.rootfs == "overlay")
        s.rootfs = RootfsMode::overlay;
    else
        return Error::usage("--rootfs: invalid value '" + text::printable(r.rootfs) +
                            "': expected copy or overlay");
    s.start = r.start;
    return s;
}

namespace {

// spec.json as stored. Spec groups some of it otherwise: the network's members are Spec's own,
// and two choices stored as words are bools.
enum class UnknownSyscalls { error, warn };
enum class MissingControllers { refuse, ignore };
VOLT_JSON_ENUM(UnknownSyscalls,
               {{UnknownSyscalls::error, "error"}, {UnknownSyscalls::warn, "warn"}})
VOLT_JSON_ENUM(MissingControllers,
               {{MissingControllers::refuse, "refuse"}, {MissingControllers::ignore, "ignore"}})

struct NetworkFile {
    NetworkMode mode = NetworkMode::private_net;
    std::string bridge;
    std::vector<PortForward> ports;
    std::vector<std::string> dns;
};
VOLT_JSON_FIELDS(NetworkFile, (mode, bridge, ports), (dns))  // no dns in older files

struct SpecFile {
    int version = Spec::kVersion;
    std::string name, image, created;
    InitKind init = InitKind::other;
    Resources resources;
    NetworkFile network;
    std::vector<std::string> env;
    std::vector<Volume> volumes;
    std::vector<Device> devices;
    std::string seccomp, landlock;
    LandlockMode landlock_mode = LandlockMode::best_effort;
    UnknownSyscalls seccomp_unknown_syscalls = UnknownSyscalls::error;
    MissingControllers missing_controllers = MissingControllers::refuse;
    bool private_users = true;
    bool read_only = false;
    std::string kernel;
    bool start = false;
    RootfsMode rootfs = RootfsMode::copy;
};
VOLT_JSON_FIELDS(SpecFile,
                 (version, name, image, created, init, resources, network, env, volumes, seccomp,
                  landlock, private_users, read_only, kernel, start),
                 (devices, landlock_mode, seccomp_unknown_syscalls, missing_controllers, rootfs))

// Read first, alone: another version may lay out the rest otherwise.
struct SpecVersion {
    int version = 0;
};
VOLT_JSON_FIELDS(SpecVersion, (version), ())

}  // namespace

std::string to_json(const Spec& s) {
    const SpecFile file{
        .version = Spec::kVersion,
        .name = s.name,
        .image = s.image,
        .created = s.created,
        .init = s.init,
        .resources = s.resources,
        .network = {.mode = s.network, .bridge = s.bridge, .ports = s.ports, .dns = s.dns},
        .env = s.env,
        .volumes = s.volumes,
        .devices = s.devices,
        .seccomp = s.seccomp,
        .landlock = s.landlock,
        .landlock_mode = s.landlock_mode,
        .seccomp_unknown_syscalls =
            s.seccomp_unknown_warn ? UnknownSyscalls::warn : UnknownSyscalls::error,
        .missing_controllers =
            s.missing_controllers_ok ? MissingControllers::ignore : MissingControllers::refuse,
        .private_users = s.private_users,
        .read_only = s.read_only,
        .kernel = s.kernel,
        .start = s.start,
        .rootfs = s.rootfs,
    };
    return jsonmap::dump(nlohmann::json(file));
}

Result<Spec> spec_from_json(const std::string& text) {
    VOLT_TRY_ASSIGN(nlohmann::json j, jsonmap::parse(text));
    VOLT_TRY_ASSIGN(SpecVersion v, jsonmap::from<SpecVersion>(j));
    if (v.version != Spec::kVersion)
        return Error(0, "version: unsupported value " + std::to_string(v.version) +
                            "; this volt-run reads version " + std::to_string(Spec::kVersion));
    VOLT_TRY_ASSIGN(SpecFile f, jsonmap::from<SpecFile>(j));
    return Spec{
        .name = std::move(f.name),
        .image = std::move(f.image),
        .created = std::move(f.created),
        .init = f.init,
        .resources = std::move(f.resources),
        .network = f.network.mode,
        .bridge = std::move(f.network.bridge),
        .ports = std::move(f.network.ports),
        .dns = std::move(f.network.dns),
        .env = std::move(f.env),
        .volumes = std::move(f.volumes),
        .devices = std::move(f.devices),
        .seccomp = std::move(f.seccomp),
        .landlock = std::move(f.landlock),
        .landlock_mode = f.landlock_mode,
        .seccomp_unknown_warn = f.seccomp_unknown_syscalls == UnknownSyscalls::warn,
        .missing_controllers_ok = f.missing_controllers == MissingControllers::ignore,
        .private_users = f.private_users,
        .read_only = f.read_only,
        .kernel = std::move(f.kernel),
        .start = f.start,
        .rootfs = f.rootfs,
    };
}

}  // namespace volt::runtime
