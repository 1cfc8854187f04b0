#include "runtime/store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/network.hpp"
#include "runtime/options.hpp"

namespace volt::runtime {

Result<fs::FileLock> lock_container(const Paths& paths, const std::string& name) {
    VOLT_TRY(validate_name(name));
    std::string path = paths.lock_file(name);
    for (;;) {
        if (!fs::is_directory(paths.config_dir(name)))
            return Error::usage("no such container: " + name);
        auto lock = fs::FileLock::acquire(path);
        if (!lock) {
            if (lock.error().code() == ENOENT)
                continue;  // the directory went away meanwhile
            return std::move(lock).error();
        }
        struct stat held, now;
        if (::fstat(lock->fd(), &held) == 0 && ::stat(path.c_str(), &now) == 0 &&
            held.st_ino == now.st_ino && held.st_dev == now.st_dev)
            return lock;
        // Deleted (and perhaps re-created) while we waited: try again on the current file.
    }
}

Result<Spec> load_spec(const Paths& paths, const std::string& name) {
    VOLT_TRY(validate_name(name));
    auto text = fs::read_file(paths.spec_file(name));
    if (!text) {
        if (text.error().code() == ENOENT)
            return Error::usage("no such container: " + name);
        return std::move(text).error();
    }
    auto spec = spec_from_json(*text);
    if (!spec)
        return std::move(spec).error().context(paths.spec_file(name));
    // A spec planted (or copied) in another container's directory must not make a command on
    // this one act on that one's root file system, cgroup or machine.
    if (spec->name != name)
        return Error(EINVAL, paths.spec_file(name) + ": the spec names container '" +
                                 text::printable(spec->name) + "', not " + name);
    return spec;
}

Status check_stored_spec(const Spec& spec) {
    for (const auto& v : spec.volumes) {
        const std::string text = v.host + ":" + v.container;
        VOLT_TRY(check_volume_path("volume", text, "host", v.host));
        VOLT_TRY(check_volume_path("volume", text, "container", v.container));
        if (fs::absolute(v.container) != v.container)
            return Error::usage("volume: invalid value '" + text::printable(text) +
                                "': the container path is not normalized");
        VOLT_TRY(check_volume_target("volume", text, v.container));
        // Its host path was resolved at create; boot opens it without following links.
        VOLT_TRY(check_volume_source(v));
    }
    for (const auto& e : spec.env)
        VOLT_TRY(parse_env("env", e));
    return {};
}

bool system_bus_present() {
    const char* addr = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    std::string path = "/run/dbus/system_bus_socket";
    if (addr && std::string(addr).rfind("unix:path=", 0) == 0) {
        path = std::string(addr).substr(10);
        path = path.substr(0, path.find(','));
    } else if (addr && *addr) {
        return true;  // some other transport: let sd-bus decide
    }
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

Result<Locked> lock_and_load(const Paths& paths, const std::string& name) {
    auto lock = lock_container(paths, name);
    if (!lock)
        return std::move(lock).error();
    auto spec = load_spec(paths, name);
    if (!spec)
        return std::move(spec).error();
    return Locked{std::move(lock).value(), std::move(spec).value()};
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

// Removes a container's own cgroup, and volt.slice above it once no container is left there.
namespace {}  // namespace

Status remove_container_cgroup(const std::string& path) {
    VOLT_TRY(cgroup::remove_tree(path));
    std::string parent = fs::dirname(path);
    if (fs::basename(parent) == "volt.slice")
        ::rmdir(parent.c_str());  // busy while others run
    return {};
}

Status collect_run(const Paths& paths, const std::string& name, const State& state) {
    if (!state.network.empty())
        VOLT_TRY_CTX(teardown_network(paths, name), "removing the network of " + name);
    if (!state.cgroup.empty()) {
        if (auto cg = cgroup::Cgroup::open(state.cgroup)) {
            auto populated = cg->populated();
            if (populated && *populated) {
                log::debug("killing processes left in %s", state.cgroup.c_str());
                VOLT_TRY(cg->kill());
                VOLT_TRY(cg->wait_empty(5000));
            }
        }
        VOLT_TRY(remove_container_cgroup(state.cgroup));
    }
    if (!state.cgroup_v1.empty())
        VOLT_TRY(remove_container_cgroup(state.cgroup_v1));
    if (!state.cgroup_devices.empty())
        VOLT_TRY(remove_container_cgroup(state.cgroup_devices));
    return fs::remove_tree(paths.state_dir(name));
}

}  // namespace volt::runtime
