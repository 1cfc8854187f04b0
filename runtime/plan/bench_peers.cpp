#include "runtime/plan/bench_peers.hpp"

#include <nlohmann/json.hpp>

#include "base/fs.hpp"

namespace volt::runtime {

std::vector<std::string> bare_nspawn_argv(const BareNspawnPlan& p) {
    std::vector<std::string> argv = {p.nspawn,
                                     "--quiet",
                                     "--boot",
                                     "--keep-unit",
                                     "--machine=" + p.machine,
                                     "--directory=" + p.root};
    if (!p.system_bus)
        argv.push_back("--register=no");
    argv.push_back(p.init == InitKind::systemd ? "--notify-ready=yes" : "--notify-ready=no");
    argv.push_back(p.private_users ? "--private-users=pick" : "--private-users=no");
    // busybox init halts on SIGUSR2, and ignores nspawn's default SIGRTMIN+3.
    if (p.init == InitKind::busybox)
        argv.push_back("--kill-signal=SIGUSR2");
    argv.push_back(p.private_network ? "--network-veth" : "--private-network");
    return argv;
}

bool notify_says_ready(std::string_view datagram) {
    for (auto line : fs::split(datagram, '\n'))
        if (line == "READY=1")
            return true;
    return false;
}

std::string crun_config(const CrunBundlePlan& p) {
    using nlohmann::json;
    auto mount = [](const char* dst, const char* type, const char* src,
                    std::vector<const char*> options) {
        return json{{"destination", dst}, {"type", type}, {"source", src}, {"options", options}};
    };
    json namespaces = json::array();
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        namespaces.push_back({{"type", ns}});
    json config = {
        {"ociVersion", "1.0.0"},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", p.args},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
          {"cwd", "/"},
          {"noNewPrivileges", true}}},
        {"root", {{"path", p.rootfs}, {"readonly", true}}},
        {"hostname", p.hostname},
        {"mounts",
         {mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
          mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
          mount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}),
          mount("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
          mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
          mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
          mount("/sys/fs/cgroup", "cgroup", "cgroup",
                {"nosuid", "noexec", "nodev", "relatime", "ro"})}},
        {"linux", {{"cgroupsPath", p.cgroups_path}, {"namespaces", std::move(namespaces)}}},
    };
    return config.dump(2) + "\n";
}

}  // namespace volt::runtime
