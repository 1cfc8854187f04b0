// Resource verbs on a container's cgroup: update (live limits), stats, pause and resume.
#include <algorithm>

#include "base/fault.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/limits.hpp"
#include "runtime/store/state.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"

namespace volt::runtime {
namespace {

// The running container's state, or a usage error naming it.
Result<State> running_state(const Paths& paths, const std::string& name) {
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    if (!*state || !open_nspawn(**state))
        return Error::usage("container " + name + " is not running");
    return **state;
}

// The options that ask for a controller, for error messages.
const char* options_of(const std::string& controller) {
    if (controller == "memory")
        return "--memory, --memory-high, --memory-swap";
    if (controller == "cpu")
        return "--cpus, --cpu-weight";
    if (controller == "cpuset")
        return "--cpuset";
    if (controller == "io")
        return "--io-weight";
    return "--pids-max";
}

}  // namespace

Status write_limits(const Paths& paths, const std::string& name, const Resources& limits,
                    const std::string& cgroup_path, bool allow_missing,
                    std::vector<std::string>& unenforced, const std::string& hint) {
    std::vector<cgroup::Setting> settings = cgroup::render(limits);
    if (settings.empty())
        return {};
    auto mounts = cgroup::find_mounts(paths.cgroup_root);
    if (!mounts)
        return std::move(mounts).error();
    std::vector<std::string> missing;
    std::string why;
    VOLT_TRY(cgroup::enable_controllers(mounts->unified, cgroup_path,
                                        cgroup::controllers_of(settings), missing, why));
    if (!missing.empty()) {
        std::string names;
        for (const auto& c : missing)
            names += (names.empty() ? "" : ", ") + c + " (" + options_of(c) + ")";
        if (!allow_missing)
            return Error(0, "cannot enforce the limits of " + name + ": cgroup controller " +
                                names + " " + why + "; enable it, or " + hint);
        log::warn("%s: limits not enforced, cgroup controller %s %s", name.c_str(), names.c_str(),
                  why.c_str());
        std::erase_if(settings, [&](const cgroup::Setting& s) {
            return std::find(missing.begin(), missing.end(), s.controller) != missing.end();
        });
        unenforced = missing;
    }
    VOLT_TRY(cgroup::write_settings(cgroup_path, settings));
    for (const auto& s : settings)
        log::info("%s: %s = %s", name.c_str(), s.file.c_str(), s.value.c_str());
    return {};
}

Result<Spec> update(const Paths& paths, const std::string& name, const ResourceRequest& request) {
    auto locked = lock_and_load(paths, name);
    if (!locked)
        return std::move(locked).error();
    const Spec* spec = &locked->spec;
    auto changes = parse_resources(request);
    if (!changes)
        return std::move(changes).error();
    if (changes->empty())
        return Error::usage("update: no limit given (--memory, --cpus, …)");
    Spec updated = *spec;
    updated.resources = merge(spec->resources, *changes);
    if (updated.resources.memory_max && updated.resources.memory_high &&
        *updated.resources.memory_high > *updated.resources.memory_max)
        return Error::usage("--memory-high: above the container's --memory");

    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    if (*state && open_nspawn(**state)) {
        // Live: only what changed is written, and it must be enforceable now.
        VOLT_TRY(fault::at(paths.fault, "update:limits"));
        std::vector<std::string> unenforced;
        VOLT_TRY(write_limits(paths, name, *changes, (*state)->cgroup, false, unenforced,
                              "leave this limit for a host that has the controller"));
    }
    // The spec follows, so that the next boot has the same limits. With it go the temporaries
    // of a write of it that was killed (its writers hold this lock).
    VOLT_TRY(fault::at(paths.fault, "update:spec"));
    VOLT_TRY(fs::remove_temporaries(paths.spec_file(name)));
    VOLT_TRY(fs::write_file_atomic(paths.spec_file(name), to_json(updated), 0600));
    return updated;
}

Result<cgroup::Stats> stats(const Paths& paths, const std::string& name) {
    VOLT_TRY(load_spec(paths, name));
    auto state = running_state(paths, name);
    if (!state)
        return std::move(state).error();
    return cgroup::read_stats(state->cgroup);
}

Status pause(const Paths& paths, const std::string& name, bool paused) {
    auto locked = lock_and_load(paths, name);
    if (!locked)
        return std::move(locked).error();
    auto state = running_state(paths, name);
    if (!state)
        return std::move(state).error();
    auto cg = cgroup::Cgroup::open(state->cgroup);
    if (!cg)
        return std::move(cg).error();
    return cg->freeze(paused);
}

}  // namespace volt::runtime
