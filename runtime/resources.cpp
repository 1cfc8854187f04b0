// Resource verbs on a container's cgroup: update (live limits), stats, pause and resume.
#include "base/fs.hpp"
#include "base/log.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/limits.hpp"
#include "runtime/container.hpp"
#include "runtime/state.hpp"
#include "runtime/store.hpp"

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

}  // namespace

Result<Spec> update(const Paths& paths, const std::string& name, const ResourceRequest& request) {
    auto lock = lock_container(paths, name);
    if (!lock)
        return std::move(lock).error();
    auto spec = load_spec(paths, name);
    if (!spec)
        return std::move(spec).error();
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
        auto settings = cgroup::render(*changes);
        auto mounts = cgroup::find_mounts(paths.cgroup_root);
        if (!mounts)
            return std::move(mounts).error();
        std::vector<std::string> missing;
        std::string why;
        VOLT_TRY(cgroup::enable_controllers(mounts->unified, (*state)->cgroup,
                                            cgroup::controllers_of(settings), missing, why));
        if (!missing.empty())
            return Error(0, "cannot change the limits of " + name + ": cgroup controller " +
                                missing.front() + " " + why);
        VOLT_TRY(cgroup::write_settings((*state)->cgroup, settings));
        for (const auto& s : settings)
            log::info("%s: %s = %s", name.c_str(), s.file.c_str(), s.value.c_str());
    }
    // The spec follows, so that the next boot has the same limits.
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
    auto lock = lock_container(paths, name);
    if (!lock)
        return std::move(lock).error();
    VOLT_TRY(load_spec(paths, name));
    auto state = running_state(paths, name);
    if (!state)
        return std::move(state).error();
    auto cg = cgroup::Cgroup::open(state->cgroup);
    if (!cg)
        return std::move(cg).error();
    return cg->freeze(paused);
}

}  // namespace volt::runtime
