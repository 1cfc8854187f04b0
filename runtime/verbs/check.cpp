#include "runtime/verbs/check.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/fs.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/confine.hpp"
#include "runtime/verbs/host.hpp"

namespace volt::runtime {

HostCheck check_host(const Paths& paths) {
    HostCheck h;
    h.landlock_abi = landlock_abi(paths);
    // EINVAL for a null filter means the kernel knows SECCOMP_MODE_FILTER; without seccomp it is
    // also EINVAL from prctl, so ask for the mode instead: -1 when the kernel lacks seccomp.
    h.seccomp = ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
    if (auto n = fs::read_file("/proc/sys/user/max_user_namespaces"))
        h.user_namespaces = n->size() > 0 && (*n)[0] != '0';
    if (auto mounts = cgroup::find_mounts(paths.cgroup_root)) {
        h.cgroup2 = mounts->unified;
        if (auto controllers = fs::read_file(h.cgroup2 + "/cgroup.controllers"))
            for (std::string_view c : fs::words(*controllers))
                h.cgroup2_controllers.emplace_back(c);
    }
    h.nspawn = ::access(kNspawnPath, X_OK) == 0;
    h.system_bus = system_bus_present(paths);
    return h;
}

}  // namespace volt::runtime
