// volt-run inspect NAME: a container's spec and runtime state, and what of the spec this host
// enforces.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cgroup/cgroup.hpp"
#include "cgroup/devices.hpp"
#include "landlock/landlock.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/verbs/confine.hpp"

namespace volt::cli::verbs {
namespace {

using nlohmann::json;

// What the running kernel enforces of the container's Landlock policy, at boot and at exec.
std::string landlock_enforcement(const runtime::Paths& paths, const runtime::Spec& s) {
    if (s.landlock == "none")
        return "none requested";
    auto at_exec = runtime::landlock_plan(paths, s, landlock::Part::exec);
    auto at_boot = runtime::landlock_plan(paths, s, landlock::Part::boot);
    if (!at_exec)
        return "error: " + at_exec.error().describe();
    if (!at_boot)
        return "error: " + at_boot.error().describe();
    std::string out = s.landlock + " (" + runtime::to_string(s.landlock_mode) + ", ABI " +
                      std::to_string(at_exec->abi) + "): exec " + at_exec->describe() +
                      "; boot (network and scopes) " + at_boot->describe();
    if (s.landlock_mode == runtime::LandlockMode::require && !at_exec->complete())
        out += "; boot and exec refuse to run";
    return out;
}

// The limits as the cgroup files they are written to, and which of them a running container
// does not have (booted with --missing-controllers ignore).
std::string resources_enforcement(const runtime::ContainerInfo& c) {
    auto settings = cgroup::render(c.spec.resources);
    if (settings.empty())
        return "none requested";
    std::string out;
    for (const auto& st : settings)
        out += (out.empty() ? "" : ", ") + st.file + "=" + st.value;
    if (!c.running)
        return out + " (written at boot)";
    if (c.state && !c.state->unenforced_controllers.empty()) {
        std::string missing;
        for (const auto& m : c.state->unenforced_controllers)
            missing += (missing.empty() ? "" : ", ") + m;
        return out + "; NOT enforced (controller missing): " + missing;
    }
    return out + " (enforced)";
}

// Which filters bind whom: the guest's processes descend from nspawn's init and carry
// nspawn's built-in filter; exec'd commands do not, and get volt-run's rebuild of it.
std::string seccomp_enforcement(const runtime::ContainerInfo& c) {
    const runtime::Spec& s = c.spec;
    std::string nspawn =
        "systemd-nspawn's restrictions (keyrings, bpf, open_by_handle_at, "
        "kexec, swap, perf, clock and module calls the guest lacks the "
        "capability for, audit sockets …)";
    if (s.seccomp == "unconfined")
        return "no profile; the guest's processes: nspawn's built-in filter; exec'd commands: "
               "volt-run's copy of " +
               nspawn;
    // Which architectures: what boot found in the compiled profile, else what is known of the
    // shipped ones (a custom profile decides for itself, README of seccomp-profiles).
    std::string arches;
    if (c.running && c.state && c.state->exec.recorded() && !c.state->exec.seccomp_digest.empty())
        arches = c.state->exec.seccomp_foreign_arches
                     ? " (the compat ABIs too)"
                     : " (native architecture only: 32-bit calls kill the process)";
    else if (s.seccomp == "default" || s.seccomp == "strict")
        arches = " (native architecture only: 32-bit calls kill the process)";
    return "profile " + s.seccomp + arches +
           ": the whole container from boot (nspawn and the guest) and exec'd commands; also "
           "the guest's processes: nspawn's built-in filter; exec'd commands: volt-run's copy "
           "of " +
           nspawn + ", and no_new_privs";
}

// The device policy: what it allows, and for a running container whether the program is
// attached to its cgroup now (read back from the kernel) and where the v1 policy is.
std::string devices_enforcement(const runtime::ContainerInfo& c) {
    std::string policy = "closed, " +
                         std::to_string(cgroup::default_devices().size() + c.spec.devices.size()) +
                         " rules allowed (README: Device policy)";
    if (!c.running || !c.state)
        return policy + ": attached to the container's cgroup at boot";
    auto cg = cgroup::Cgroup::open(c.state->cgroup);
    auto ids = cg ? cgroup::attached_device_programs(cg->fd())
                  : Result<std::vector<std::uint32_t>>(std::move(cg).error());
    std::string out = policy + ": ";
    if (!ids)
        out += "cannot read the eBPF programs of " + c.state->cgroup + " (" +
               ids.error().describe() + ")";
    else if (ids->empty())
        out += "NO eBPF program on " + c.state->cgroup;
    else
        out += "eBPF program on " + c.state->cgroup;
    if (!c.state->cgroup_devices.empty())
        out += "; v1 devices controller at " + c.state->cgroup_devices;
    return out;
}

// What of the spec this version enforces, so that nobody reads a stored setting as applied.
json enforcement(const runtime::Paths& paths, const runtime::ContainerInfo& c) {
    const runtime::Spec& s = c.spec;
    return {
        {"resources", resources_enforcement(c)},
        {"landlock", landlock_enforcement(paths, s)},
        {"seccomp", seccomp_enforcement(c)},
        {"devices", devices_enforcement(c)},
        {"network", std::string(runtime::to_string(s.network)) + ": applied at boot"},
    };
}

}  // namespace

json container_json(const runtime::Paths& paths, const runtime::ContainerInfo& c) {
    if (!c.broken.empty())
        return {{"name", c.spec.name}, {"state", state_word(c)}, {"reason", c.broken}};
    json j = {
        {"name", c.spec.name},
        {"state", state_word(c)},
        {"rootfs", paths.rootfs(c.spec.name)},
        {"rootfs_mode", runtime::to_string(c.spec.rootfs)},
        {"unit", paths.unit_file(c.spec.name)},
        {"settings", paths.nspawn_file(c.spec.name)},
        {"spec", json::parse(runtime::to_json(c.spec))},
        {"enforcement", enforcement(paths, c)},
    };
    if (!c.leftovers.empty())
        j["leftovers"] = c.leftovers;
    if (c.spec.rootfs == runtime::RootfsMode::overlay) {
        j["lower"] = c.spec.image;
        j["upper"] = paths.overlay_dir(c.spec.name) + "/upper";
    }
    if (c.running && c.state) {
        j["nspawn_pid"] = c.state->nspawn_pid;
        j["leader_pid"] = c.leader;
        j["cgroup"] = c.state->cgroup;
        j["started"] = c.state->started;
        if (auto up = uptime_seconds(c))
            j["uptime_seconds"] = *up;
        j["stats"] = stats_json(cgroup::read_stats(c.state->cgroup));
        if (c.machine)
            j["machine"] = {{"leader", c.machine->leader}, {"addresses", c.machine->addresses}};
        if (!c.state->network.empty()) {
            const auto& n = c.state->network;
            j["network"] = {{"bridge", n.bridge},
                            {"address", n.address + "/" + std::to_string(n.prefix)},
                            {"gateway", n.gateway},
                            {"mac", n.mac},
                            {"host_interface", n.host_ifname},
                            {"container_interface", n.container_ifname},
                            {"netns", n.netns},
                            {"dns", n.dns},
                            {"ports", n.ports}};
        }
    }
    return j;
}

void add_inspect(CLI::App& sub, InspectCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("--json", c.json, "Print JSON");
}

int run_inspect(const Invocation& inv, const InspectCmd& c) {
    auto info = runtime::inspect(inv.paths, c.name);
    if (!info)
        return fail(info.error());
    json j = container_json(inv.paths, *info);
    if (c.json)
        return print_json(j);
    for (const char* key :
         {"name", "state", "leftovers", "rootfs", "rootfs_mode", "lower", "upper", "unit",
          "settings", "nspawn_pid", "leader_pid", "cgroup", "started", "uptime_seconds"})
        if (j.contains(key))
            std::printf("%-12s %s\n", key, text_of(j[key]).c_str());
    if (j.contains("network")) {
        std::printf("network:\n");
        for (auto& [k, v] : j["network"].items()) {
            std::string text = text_of(v);
            std::printf("  %-20s %s\n", k.c_str(), text.empty() ? "-" : text.c_str());
        }
    }
    if (info->machine) {
        std::string addrs;
        for (const auto& a : info->machine->addresses)
            addrs += (addrs.empty() ? "" : " ") + a;
        std::printf("machine:     registered with machined, addresses %s\n",
                    addrs.empty() ? "-" : addrs.c_str());
    }
    std::printf("spec:\n%s", runtime::to_json(info->spec).c_str());
    std::printf("enforcement:\n");
    for (auto& [k, v] : j["enforcement"].items())
        std::printf("  %-10s %s\n", k.c_str(), text_of(v).c_str());
    return 0;
}

}  // namespace volt::cli::verbs
