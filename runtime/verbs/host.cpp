#include "runtime/verbs/host.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fault.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/network.hpp"

namespace volt::runtime {

bool system_bus_present(const Paths& paths) {
    const std::string& addr = paths.system_bus_address;
    std::string path = "/run/dbus/system_bus_socket";
    if (addr.starts_with("unix:path=")) {
        path = addr.substr(10);
        path = path.substr(0, path.find(','));
    } else if (!addr.empty()) {
        return true;  // some other transport: let sd-bus decide
    }
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

pid_t find_leader(pid_t nspawn_pid) {
    auto own_ns = proc::namespace_inode(nspawn_pid, "pid");
    auto kids = proc::children(nspawn_pid);
    if (!own_ns || !kids)
        return 0;
    for (pid_t child : *kids) {
        auto ns = proc::namespace_inode(child, "pid");
        if (ns && *ns != *own_ns)
            return child;
    }
    return 0;
}

Status remove_container_cgroup(const std::string& path) {
    VOLT_TRY(cgroup::remove_tree(path));
    std::string parent = fs::dirname(path);
    if (fs::basename(parent) == "volt.slice")
        ::rmdir(parent.c_str());  // busy while others run
    return {};
}

namespace {

// Kills what runs in a cgroup2 directory and waits until it is empty.
Status empty_cgroup(const std::string& path) {
    auto cg = cgroup::Cgroup::open(path);
    if (!cg)
        return {};
    VOLT_TRY_ASSIGN(bool populated, cg->populated());
    if (!populated)
        return {};
    log::debug("killing processes left in %s", path.c_str());
    VOLT_TRY(cg->kill());
    return cg->wait_empty(5000);
}

}  // namespace

Status collect_nspawn_leftovers(const Paths& paths, const std::string& name, const State* state) {
    // systemd-nspawn's own run directory, which it does not let anyone move.
    static const std::string kNspawnRun = "/run/systemd/nspawn";
    const std::string root = paths.rootfs(name);
    VOLT_TRY(fs::remove_lock_file(fs::dirname(root) + "/.#" + fs::basename(root) + ".lck"));
    // Its lock by the root's inode, named as nspawn names it (image_path_lock()). Numbers only,
    // whatever the state file says: no path of it is ever removed.
    auto remove_inode_lock = [](std::uint64_t dev, std::uint64_t ino) {
        return fs::remove_lock_file(kNspawnRun + "/locks/inode-" + std::to_string(dev) + ":" +
                                    std::to_string(ino));
    };
    if (struct stat st; ::stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        VOLT_TRY(remove_inode_lock(st.st_dev, st.st_ino));
    if (state && (state->root_dev != 0 || state->root_ino != 0))
        VOLT_TRY(remove_inode_lock(state->root_dev, state->root_ino));
    return fs::remove_tree(kNspawnRun + "/propagate/" + name);
}

Status collect_run(const Paths& paths, const std::string& name, const State& state) {
    const auto& fault = paths.fault;
    if (!state.network.empty()) {
        VOLT_TRY(fault::at(fault, "collect:network"));
        VOLT_TRY_CTX(teardown_network(paths, name), "removing the network of " + name);
    }
    if (!state.cgroup.empty()) {
        VOLT_TRY(fault::at(fault, "collect:cgroup"));
        VOLT_TRY(empty_cgroup(state.cgroup));
        VOLT_TRY(remove_container_cgroup(state.cgroup));
    }
    if (!state.cgroup_v1.empty()) {
        VOLT_TRY(fault::at(fault, "collect:cgroup v1"));
        VOLT_TRY(remove_container_cgroup(state.cgroup_v1));
    }
    if (!state.cgroup_devices.empty()) {
        VOLT_TRY(fault::at(fault, "collect:cgroup devices"));
        VOLT_TRY(remove_container_cgroup(state.cgroup_devices));
    }
    VOLT_TRY(fault::at(fault, "collect:nspawn"));
    VOLT_TRY(collect_nspawn_leftovers(paths, name, &state));
    VOLT_TRY(fault::at(fault, "collect:state"));
    return fs::remove_tree(paths.state_dir(name));
}

Status collect_exited_run(const Paths& paths, const std::string& name, pid_t pid,
                          std::uint64_t start_time) {
    auto records = [&](const std::optional<State>& state) {
        return state && state->nspawn_pid == pid && state->nspawn_start_time == start_time;
    };
    // First without the lock (the state file is replaced atomically): when stop or delete holds
    // the lock to collect this very run, we need not queue behind them, nor open a lock file in a
    // config directory that delete is removing.
    if (auto state = read_state(paths, name); !state || !records(*state))
        return {};
    auto lock = lock_container(paths, name);
    if (!lock) {
        if (!fs::is_directory(paths.config_dir(name)))
            return {};  // deleted meanwhile: delete collected the run
        return std::move(lock).error();
    }
    VOLT_TRY_ASSIGN(auto state, read_state(paths, name));
    if (!records(state))
        return {};
    log::debug("collecting the run of %s: its nspawn (pid %d) exited", name.c_str(),
               static_cast<int>(pid));
    return collect_run(paths, name, *state);
}

Status collect_by_name(const Paths& paths, const std::string& name) {
    VOLT_TRY(fault::at(paths.fault, "collect by name:network"));
    VOLT_TRY_CTX(teardown_network(paths, name), "removing the network of " + name);
    VOLT_TRY(fault::at(paths.fault, "collect by name:cgroups"));
    VOLT_TRY_ASSIGN(auto mounts, cgroup::find_mounts(paths.cgroup_root));
    VOLT_TRY_ASSIGN(auto self, cgroup::self_membership());
    const std::string rel = "/volt.slice/volt-hybrid-" + name;
    // The cgroup2 hierarchy first: that is where the processes are killed.
    const std::pair<const std::string&, const std::string&> hierarchies[] = {
        {mounts.unified, self.unified},
        {mounts.named_systemd, self.named_systemd},
        {mounts.devices, self.devices}};
    bool first = true;
    for (const auto& [mount, own] : hierarchies) {
        if (!mount.empty()) {
            std::vector<std::string> places = {mount + rel};
            if (!own.empty() && own != "/")
                places.push_back(mount + own + rel);
            for (const auto& place : places) {
                if (!fs::is_directory(place))
                    continue;
                if (first)
                    VOLT_TRY(empty_cgroup(place));
                VOLT_TRY(remove_container_cgroup(place));
            }
        }
        first = false;
    }
    VOLT_TRY(fault::at(paths.fault, "collect by name:nspawn"));
    VOLT_TRY(collect_nspawn_leftovers(paths, name, nullptr));
    VOLT_TRY(fault::at(paths.fault, "collect by name:state"));
    return fs::remove_tree(paths.state_dir(name));
}

InitKind detect_init(const std::string& rootfs) {
    auto root = rootfs::ContainerRoot::open(rootfs);
    if (!root)
        return InitKind::other;
    return detect_init(*root);
}

InitKind detect_init(const rootfs::ContainerRoot& root) {
    // The order in which systemd-nspawn --boot tries them: the first that exists is what boots.
    for (const char* candidate :
         {"/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/sbin/init"}) {
        auto target = root.resolve(candidate);
        if (!target)
            continue;
        std::string name = fs::basename(*target);
        if (name == "systemd")
            return InitKind::systemd;
        if (name == "busybox")
            return InitKind::busybox;
        return InitKind::other;
    }
    return InitKind::other;
}

}  // namespace volt::runtime
