#include "runtime/plan/nspawn.hpp"

namespace volt::runtime {
namespace {

// systemd-nspawn's --bind takes "SRC:DST"; build_spec rejects ':' in volume paths.
std::string bind_arg(const Volume& v) {
    return v.host + ":" + v.container + (v.idmap ? ":idmap" : "");
}

// nspawn makes a namespace itself only for `none`: private and bridge networks are built by boot,
// which starts nspawn inside them.
bool nspawn_makes_network_namespace(const Spec& spec) {
    return spec.network == NetworkMode::none;
}

}  // namespace

std::vector<std::string> container_environment(const Spec& spec) {
    std::vector<std::string> env = {"VOLT_CONTAINER=" + spec.name, "VOLT_RUNTIME=hybrid"};
    if (!spec.kernel.empty())
        env.push_back("VOLT_KERNEL=" + spec.kernel);
    env.insert(env.end(), spec.env.begin(), spec.env.end());
    return env;
}

std::vector<std::string> nspawn_argv(const Spec& spec, const Paths& paths, const BootHost& host) {
    std::vector<std::string> argv = {
        kNspawnPath,
        "--quiet",
        "--boot",
        "--keep-unit",
        "--machine=" + spec.name,
        "--directory=" + paths.rootfs(spec.name),
    };
    // With systemd on the host, machined registers the machine, and the guest's journal is
    // linked into the host's (when the guest has one), where `volt-run logs` reads it.
    if (host.system_bus)
        argv.push_back("--link-journal=try-guest");
    else
        argv.push_back("--register=no");
    // Only systemd speaks sd_notify; for other inits nspawn reports READY once init started.
    argv.push_back(spec.init == InitKind::systemd ? "--notify-ready=yes" : "--notify-ready=no");
    argv.push_back(spec.private_users ? "--private-users=pick" : "--private-users=no");
    // busybox init halts on SIGUSR2; nspawn's default SIGRTMIN+3 is ignored by it.
    if (spec.init == InitKind::busybox)
        argv.push_back("--kill-signal=SIGUSR2");
    if (spec.read_only)
        argv.push_back("--read-only");
    for (const auto& e : container_environment(spec))
        argv.push_back("--setenv=" + e);
    for (const auto& v : spec.volumes)
        argv.push_back((v.read_only ? "--bind-ro=" : "--bind=") + bind_arg(v));
    // A --device node at the same path inside. nspawn 252 has no option of its own for device
    // nodes; a bind mount of one works, and the device policy decides whether it can be opened.
    for (const auto& d : spec.devices)
        argv.push_back("--bind=" + d.path);
    if (host.network_prepared)
        argv.push_back("--resolv-conf=off");  // boot wrote the container's resolv.conf
    else if (nspawn_makes_network_namespace(spec))
        argv.push_back("--private-network");
    return argv;
}

units::NspawnSettings nspawn_settings(const Spec& spec) {
    units::NspawnSettings s;
    s.container = spec.name;
    s.private_users = spec.private_users ? "pick" : "no";
    s.notify_ready = spec.init == InitKind::systemd;
    if (spec.init == InitKind::busybox)
        s.kill_signal = "SIGUSR2";
    s.environment = container_environment(spec);
    s.read_only = spec.read_only;
    for (const auto& v : spec.volumes)
        s.binds.push_back({v.host, v.container, v.read_only, v.idmap});
    for (const auto& d : spec.devices)
        s.binds.push_back({d.path, d.path, false, false});
    s.private_network = nspawn_makes_network_namespace(spec);
    return s;
}

std::vector<std::string> unit_command(const std::string& volt_run, const Paths& paths) {
    const Paths defaults;
    std::vector<std::string> argv = {volt_run};
    auto add = [&](const char* flag, const std::string& value, const std::string& def) {
        if (value != def) {
            argv.push_back(flag);
            argv.push_back(value);
        }
    };
    add("--root", paths.root, defaults.root);
    add("--run-dir", paths.run_dir, defaults.run_dir);
    add("--cgroup-root", paths.cgroup_root, defaults.cgroup_root);
    add("--subnet", paths.subnet, defaults.subnet);
    return argv;
}

}  // namespace volt::runtime
