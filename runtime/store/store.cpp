#include "runtime/store/store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "runtime/plan/options.hpp"

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
    auto text = fs::read_record(paths.spec_file(name), kMaxRecordBytes);
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

Status refuse_volumes_in_data_root(const Paths& paths, const Spec& spec) {
    if (spec.volumes.empty())
        return {};  // boot is a hot path: no realpath walk for nothing to compare
    char* resolved = ::realpath(paths.root.c_str(), nullptr);
    const std::string root = resolved ? resolved : fs::absolute(paths.root);
    std::free(resolved);
    for (const auto& v : spec.volumes)
        if (v.host == root || v.host.starts_with(root + "/"))
            return Error::usage("--volume " + text::printable(v.host) + ":" +
                                text::printable(v.container) +
                                ": the host path is in the data "
                                "root " +
                                root + " (other containers' files and images)");
    return {};
}

Result<Locked> lock_and_load(const Paths& paths, const std::string& name) {
    VOLT_TRY_ASSIGN(auto lock, lock_container(paths, name));
    VOLT_TRY_ASSIGN(auto spec, load_spec(paths, name));
    return Locked{std::move(lock), std::move(spec)};
}

Status refuse_claimed_ports(const Paths& paths, const Spec& spec) {
    if (spec.ports.empty())
        return {};
    auto names = fs::list_dir(paths.root + "/config");
    if (!names)
        return names.error().code() == ENOENT ? Status() : Status(std::move(names).error());
    std::sort(names->begin(), names->end());  // the same container named on every run
    for (const auto& other : *names) {
        if (other == spec.name || !validate_name(other))
            continue;
        auto theirs = load_spec(paths, other);
        if (!theirs)
            continue;
        if (auto clash = clashing_port(spec.ports, theirs->ports))
            return port_claimed(*clash, other, "two containers cannot forward one host port");
    }
    return {};
}

}  // namespace volt::runtime
