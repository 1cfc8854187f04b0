#include "runtime/plan/boot_plan.hpp"

#include "base/fs.hpp"
#include "runtime/plan/exec_plan.hpp"
#include "runtime/plan/nspawn.hpp"
#include "units/units.hpp"

namespace volt::runtime {
namespace {

std::string below(const std::string& mount, const std::string& self, const std::string& rel) {
    return mount + (self == "/" ? std::string() : self) + rel;
}

}  // namespace

bool in_own_unit(const std::string& name, bool invocation_id, const std::string& self_unified) {
    if (!invocation_id)
        return false;
    std::string cg = self_unified;
    if (fs::basename(cg) == ".control")
        cg = fs::dirname(cg);
    return fs::basename(cg) == units::service_name(name);
}

Result<BootPlan> plan_boot(const Spec& spec, const Paths& paths, const BootFacts& facts) {
    BootPlan plan;
    // Each container gets a cgroup of its own: nspawn with --keep-unit makes its payload/ and
    // supervisor/ below the cgroup it starts in, so two containers started from one cgroup would
    // share them. Under its own unit (Delegate=yes) the cgroup goes inside the unit's, one level
    // down, so that the unit's attributes stay systemd's.
    Placement& p = plan.placement;
    p.under_systemd = in_own_unit(spec.name, facts.invoked_by_systemd, facts.self_unified);
    const std::string rel = p.under_systemd ? "/container" : "/volt.slice/volt-hybrid-" + spec.name;
    p.origin_unified = facts.mount_unified + facts.self_unified;
    p.unified = below(facts.mount_unified, facts.self_unified, rel);
    if (!facts.mount_v1.empty() && !facts.self_v1.empty()) {
        p.origin_v1 = facts.mount_v1 + facts.self_v1;
        p.v1 = below(facts.mount_v1, facts.self_v1, rel);
    }
    // Under its unit the v1 devices controller is systemd's: it applies the unit's
    // DevicePolicy= and DeviceAllow= (the same list) to the unit's cgroup there.
    if (!p.under_systemd && !facts.mount_devices.empty() && !facts.self_devices.empty()) {
        p.origin_devices = facts.mount_devices + facts.self_devices;
        p.devices = below(facts.mount_devices, facts.self_devices, rel);
    }
    plan.limits = cgroup::render(spec.resources);
    plan.missing_controllers_ok = spec.missing_controllers_ok;
    plan.devices = facts.devices;
    plan.builds_network =
        spec.network == NetworkMode::private_net || spec.network == NetworkMode::bridge;

    if (facts.landlock_policy) {
        plan.landlock =
            landlock::plan(*facts.landlock_policy, landlock::Part::boot, facts.landlock_abi);
        VOLT_TRY(check_landlock_mode(spec.landlock_mode, spec.landlock, plan.landlock));
        plan.exec_landlock = exec_landlock_plan(*facts.landlock_policy, spec, facts.landlock_abi);
    }
    plan.seccomp = spec.seccomp;

    BootHost host;
    host.system_bus = facts.system_bus;
    host.network_prepared = plan.builds_network;
    plan.nspawn_argv = nspawn_argv(spec, paths, host);
    for (auto& w : unapplied_options(spec))
        plan.warnings.push_back(std::move(w));
    return plan;
}

std::vector<std::string> unapplied_options(const Spec& spec) {
    std::vector<std::string> out;
    if (!spec.kernel.empty())
        out.push_back(spec.name + ": --kernel " + spec.kernel +
                      " is recorded only: a systemd-nspawn container runs on the host's kernel");
    return out;
}

std::string render(const BootPlan& plan) {
    const Placement& p = plan.placement;
    std::string out;
    auto line = [&](const std::string& key, const std::string& value) {
        out += key + " " + value + "\n";
    };
    line("cgroup", p.unified + (p.under_systemd ? " (under its unit)" : ""));
    if (!p.v1.empty())
        line("cgroup-v1", p.v1);
    if (!p.devices.empty())
        line("cgroup-devices", p.devices + " (nspawn in payload/)");
    for (const auto& s : plan.limits)
        line("limit", s.file + "=" + s.value);
    if (plan.missing_controllers_ok)
        line("missing-controllers", "ignore");
    for (const auto& d : plan.devices)
        for (const auto& l : cgroup::v1_lines(d))
            line("device", l);
    line("network", plan.builds_network ? "built by boot" : "none built");
    line("landlock", plan.landlock.empty() ? "nothing to enforce"
                                           : "ABI " + std::to_string(plan.landlock.abi) + ": " +
                                                 plan.landlock.describe());
    line("exec-landlock", plan.exec_landlock.empty()
                              ? "nothing to enforce"
                              : "ABI " + std::to_string(plan.exec_landlock.abi) + ": " +
                                    plan.exec_landlock.describe());
    line("seccomp", plan.seccomp);
    std::string argv;
    for (const auto& a : plan.nspawn_argv)
        argv += (argv.empty() ? "" : " ") + a;
    line("exec", argv);
    for (const auto& w : plan.warnings)
        line("warning", w);
    return out;
}

}  // namespace volt::runtime
