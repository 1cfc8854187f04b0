#include <algorithm>

#include "base/fs.hpp"
#include "runtime/container.hpp"
#include "runtime/store.hpp"

namespace volt::runtime {

Result<ContainerInfo> inspect(const Paths& paths, const std::string& name) {
    auto spec = load_spec(paths, name);
    if (!spec)
        return std::move(spec).error();
    ContainerInfo info;
    info.spec = std::move(spec).value();
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    info.state = *state;
    if (info.state && open_nspawn(*info.state)) {
        info.running = true;
        info.leader = find_leader(info.state->nspawn_pid);
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
        // A config directory without spec.json is a create in progress (or a crashed one).
        if (!fs::exists(paths.spec_file(name)))
            continue;
        auto info = inspect(paths, name);
        if (!info)
            return std::move(info).error();
        out.push_back(std::move(info).value());
    }
    return out;
}

}  // namespace volt::runtime
