#include "runtime/verbs/check.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>

#include "base/fs.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/rootfs/overlay.hpp"
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
    h.cgroup_layout = "legacy";
    if (auto mounts = cgroup::find_mounts(paths.cgroup_root)) {
        h.cgroup2 = mounts->unified;
        if (!h.cgroup2.empty())
            h.cgroup_layout = mounts->named_systemd.empty() ? "unified" : "hybrid";
        if (auto controllers = fs::read_file(h.cgroup2 + "/cgroup.controllers"))
            for (std::string_view c : fs::words(*controllers))
                h.cgroup2_controllers.emplace_back(c);
    }
    h.nspawn = ::access(kNspawnPath, X_OK) == 0;
    h.system_bus = system_bus_present(paths);
    // A dump of volt-run's own table: no table is an empty answer; a kernel without nf_tables,
    // or a caller without CAP_NET_ADMIN, an error.
    auto nft = netlink::Nftables::open();
    auto rules = nft ? nft->rules() : Result<std::vector<netlink::NftRule>>(std::move(nft).error());
    if (!rules)
        h.nftables_error = rules.error().describe();
    if (auto forward = fs::read_file("/proc/sys/net/ipv4/ip_forward"))
        h.ip_forward = forward->starts_with('1');
    if (auto st = rootfs::probe_overlay(); !st)
        h.overlay_error = st.error().describe();
    // Where the images are, or the nearest directory of it that exists.
    std::string where = paths.images();
    while (!fs::is_directory(where) && where != "/")
        where = fs::dirname(where);
    if (auto st = rootfs::probe_idmap(where); !st)
        h.idmap_error = where + ": " + st.error().describe();
    return h;
}

std::vector<Enforceable> enforceable_options(const HostCheck& h) {
    std::vector<Enforceable> out;
    auto has = [&](const char* controller) {
        return std::find(h.cgroup2_controllers.begin(), h.cgroup2_controllers.end(), controller) !=
               h.cgroup2_controllers.end();
    };
    auto limit = [&](std::string options, const char* controller) {
        bool yes = has(controller);
        out.push_back({std::move(options), yes,
                       std::string(yes ? "the cgroup2 " : "no cgroup2 ") + controller +
                           " controller" +
                           (yes ? "" : " (boot refuses unless --missing-controllers ignore)")});
    };
    limit("--memory, --memory-high, --memory-swap", "memory");
    limit("--cpus, --cpu-weight", "cpu");
    limit("--cpuset", "cpuset");
    limit("--io-weight", "io");
    limit("--pids-max", "pids");
    out.push_back({"--landlock", h.landlock_abi > 0,
                   h.landlock_abi > 0
                       ? std::string("Landlock ABI ").append(std::to_string(h.landlock_abi))
                       : std::string("no Landlock (best-effort runs unconfined, "
                                     "require refuses)")});
    out.push_back({"--seccomp", h.seccomp, h.seccomp ? "seccomp filters" : "no seccomp"});
    out.push_back({"--private-users", h.user_namespaces,
                   h.user_namespaces ? "user namespaces" : "user namespaces are off"});
    bool net = h.nftables_error.empty();
    out.push_back({"--network private, --network bridge, --port", net,
                   net ? "veth, bridge and nftables" : "nftables: " + h.nftables_error});
    out.push_back(
        {"--device", !h.cgroup2.empty(),
         h.cgroup2.empty()
             ? std::string("no cgroup2 for the eBPF device program")
             : std::string("an eBPF device program on the cgroup2 hierarchy")
                   .append(h.cgroup_layout == "hybrid" ? " and the v1 devices controller" : "")});
    out.push_back(
        {"--start, --enable", h.system_bus,
         h.system_bus ? "systemd over the system bus" : "no system bus (boot --detach instead)"});
    bool overlay = h.overlay_error.empty();
    out.push_back({"--rootfs overlay", overlay,
                   overlay ? std::string("overlayfs with layers as fds")
                                 .append(h.idmap_error.empty()
                                             ? ", id-mapped lower layers"
                                             : "; no id-mapped lower layer (" + h.idmap_error +
                                                   "): only with --no-private-users")
                           : "overlayfs: " + h.overlay_error});
    out.push_back({"--kernel", false, "stored, never applied: nspawn shares the host's kernel"});
    return out;
}

}  // namespace volt::runtime
