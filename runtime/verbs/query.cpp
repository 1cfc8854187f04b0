#include <algorithm>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/service.hpp"
#include "units/units.hpp"

namespace volt::runtime {

namespace {

// From volt-run's own records only.
Result<ContainerInfo> inspect_local(const Paths& paths, const std::string& name) {
    auto spec = load_spec(paths, name);
    if (!spec)
        return std::move(spec).error();
    ContainerInfo info;
    info.spec = std::move(spec).value();
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    info.state = *state;
    if (!info.state)
        return info;
    // What the kernel says, not what the record claims.
    auto cg = info.state->cgroup.empty() ? Result<cgroup::Cgroup>(Error(ENOENT, "no cgroup"))
                                         : cgroup::Cgroup::open(info.state->cgroup);
    if (open_nspawn(*info.state)) {
        info.running = true;
        info.leader = find_leader(info.state->nspawn_pid);
        info.paused = cg && cg->frozen().value_or(false);
    } else {
        info.leftovers =
            cg && cg->populated().value_or(false) ? "processes in its cgroup" : "its runtime state";
    }
    return info;
}

}  // namespace

Result<ContainerInfo> inspect(const Paths& paths, const std::string& name) {
    auto info = inspect_local(paths, name);
    if (!info || !info->running || !info->state->under_systemd)
        return info;
    // Registered by its unit: what machined knows (the addresses inside the guest). A bus that
    // fails here does not hide the local record; the error goes to the log.
    auto systemd = connect_if_present(paths);
    if (systemd && *systemd) {
        auto machine = (*systemd)->machine(name);
        if (machine && *machine && (*machine)->unit == units::service_name(name))
            info->machine = std::move(*machine);
        else if (!machine)
            log::warn("%s", machine.error().describe().c_str());
    } else if (!systemd) {
        log::warn("%s", systemd.error().describe().c_str());
    }
    return info;
}

Result<std::vector<ContainerInfo>> list(const Paths& paths) {
    std::vector<ContainerInfo> out;
    auto names = fs::list_dir(paths.root + "/config");
    if (!names) {
        if (names.error().code() == ENOENT)
            return out;
        return std::move(names).error();
    }
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
        if (auto valid = validate_name(name); !valid) {
            log::warn("%s/config: skipping an entry that is no container: %s", paths.root.c_str(),
                      valid.error().describe().c_str());
            continue;
        }
        ContainerInfo info;
        // A config directory without spec.json is a create in progress (it holds the lock) or
        // one that was killed.
        if (!fs::exists(paths.spec_file(name))) {
            auto lock = fs::FileLock::acquire(paths.lock_file(name), false);
            if (!lock && lock.error().code() == EWOULDBLOCK)
                continue;
            info.broken = "a create that did not finish";
        } else if (auto local = inspect_local(paths, name)) {
            out.push_back(std::move(local).value());
            continue;
        } else {
            info.broken = local.error().describe();
        }
        info.spec.name = name;
        out.push_back(std::move(info));
    }
    return out;
}

}  // namespace volt::runtime
