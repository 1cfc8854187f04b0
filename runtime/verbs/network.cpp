#include "runtime/verbs/network.hpp"

#include <linux/magic.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "base/log.hpp"
#include "netlink/ipam.hpp"
#include "netlink/link.hpp"
#include "netlink/names.hpp"
#include "netlink/netns.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/rootfs/container_root.hpp"

namespace volt::runtime {
namespace {

void warn_if_failed(const Status& st) {
    if (!st)
        log::warn("undoing the network: %s", st.error().describe().c_str());
}
template <class T>
void warn_if_failed(const Result<T>& r) {
    if (!r)
        log::warn("undoing the network: %s", r.error().describe().c_str());
}

// Deletes the bridge build() made unless something else was attached to it meanwhile (a
// container that booted since: the network lock is held, so only a link made by hand).
void remove_bridge_if_unused(netlink::RouteSocket& host, const std::string& name, int index) {
    auto links = host.links();
    if (!links) {
        warn_if_failed(links);
        return;
    }
    for (const auto& l : *links)
        if (l.master == index) {
            log::debug("keeping %s: %s is attached to it", name.c_str(), l.name.c_str());
            return;
        }
    warn_if_failed(host.delete_link(name));
}

bool running(const Paths& paths, const std::string& name) {
    if (!validate_name(name))
        return false;
    auto state = read_state(paths, name);
    return state && *state && open_nspawn(**state);
}

// Writes a sysctl of the current network namespace if it does not hold the value already.
Status sysctl(const Sysctl& s) {
    const std::string dir = fs::dirname(s.path);
    const std::string name = fs::basename(s.path);
    VOLT_TRY_ASSIGN(UniqueFd fd, fs::open_dir(dir));
    auto now = fs::read_file_at(fd.get(), name.c_str());
    if (now && fs::words(*now) == fs::words(s.value))
        return {};
    VOLT_TRY_CTX(fs::write_existing(fd.get(), name.c_str(), s.value), dir);
    return {};
}

// Drops the leases whose holder matches, in every lease file; the caller holds the network lock.
Status release_leases_if(const Paths& paths,
                         const std::function<bool(const std::string& holder)>& match) {
    auto files = fs::list_dir(paths.network_dir());
    if (!files)
        return files.error().code() == ENOENT ? Status() : Status(std::move(files).error());
    // A lease file's save killed before its rename left a temporary: every writer holds the
    // network lock, and so does our caller.
    for (const auto& f : *files)
        if (auto at = f.find(".leases.tmp."); at != std::string::npos)
            VOLT_TRY(fs::remove_temporaries(paths.network_dir() + "/" + f.substr(0, at + 7)));
    for (const auto& f : *files) {
        if (!f.ends_with(".leases"))
            continue;
        auto leases = netlink::Leases::load(paths.network_dir() + "/" + f);
        if (!leases) {
            // Another bridge's file, unreadable: its leases stay, the others are released.
            log::warn("%s; its leases are kept", leases.error().describe().c_str());
            continue;
        }
        for (const auto& holder : leases->holders())
            if (match(holder))
                leases->release(holder);
        if (leases->changed())
            VOLT_TRY(leases->save());
    }
    return {};
}

// A network namespace bind-mounted at path (nsfs), not a file or directory of ours.
bool is_netns_mount(const std::string& path) {
    struct statfs st;
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == NSFS_MAGIC;
}

// Removes what the container's network left on the host, found by its name: its nftables chains
// and rules, its veth (only one carrying our alias: after a failed set-up the name may be
// somebody else's), its namespace, and last the entry naming the run that owned them. Under the
// network lock; nothing there is success.
Status remove_network_of(const Paths& paths, const std::string& name, netlink::Nftables& nft,
                         netlink::RouteSocket& sock) {
    VOLT_TRY(nft.remove(name));
    std::string ifname = netlink::host_ifname(name);
    auto link = sock.link(ifname);
    if (!link)
        return std::move(link).error();
    if (*link && (*link)->alias == std::string(netlink::kLinkAliasPrefix) + name)
        VOLT_TRY(sock.delete_link(ifname));
    // A run booted by an earlier version has its namespace in RUN/netns.
    if (std::string legacy = paths.legacy_netns_dir() + "/" + name; is_netns_mount(legacy))
        VOLT_TRY(netlink::remove_netns(legacy));
    VOLT_TRY(netlink::remove_netns(paths.netns(name)));
    if (::unlink(paths.network_owner(name).c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("removing " + paths.network_owner(name));
    return {};
}

// Whether a process of that pid exists (one reused since counts: it may still be the run's).
bool pid_exists(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// Whether the run that owns the container's network (its RUN/.netowners entry) may still be
// alive: its process exists. A pid reused since counts as alive, and so the run waits for its
// container's own next boot, stop or delete; an entry that is not a pid is left to the
// container's state to decide.
bool owner_alive(const Paths& paths, const std::string& name) {
    char target[32];
    ssize_t n = ::readlink(paths.network_owner(name).c_str(), target, sizeof target - 1);
    if (n <= 0)
        return running(paths, name);
    int pid = 0;
    auto [end, ec] = std::from_chars(target, target + n, pid);
    if (ec != std::errc() || end != target + n || pid <= 0)
        return running(paths, name);
    return pid_exists(pid);
}

// Records pid (boot's own: the future nspawn, execve keeps the pid) as the owner of the network.
Status record_owner(const Paths& paths, const std::string& name, pid_t pid) {
    VOLT_TRY(fs::mkdir_p(paths.network_owners_dir(), 0755));
    const std::string path = paths.network_owner(name);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("removing " + path);
    if (::symlink(std::to_string(pid).c_str(), path.c_str()) < 0)
        return Error::from_errno("recording the owner of the network in " + path);
    return {};
}

// What crashed runs of other containers left. Each run names its process in RUN/.netowners
// before it makes any of its network, and that entry goes last when the network is torn down;
// so the runs to collect are the entries whose process is gone, and what each left is found by
// its name. The cost is a readlink and a kill(pid, 0) per run that holds a network, and lookups
// by name for the dead ones only: no dump of every link and rule, which grew with the number
// of containers. Runs under the network lock.
//
// Runs of a version before RUN/.netowners have no entry there, only their state. While that
// directory does not exist (no run of this version has made a network since the data root's
// run directory was made: the first boot after an upgrade), every recorded run is looked at
// once instead: one whose state names its nspawn, checked (read_state), and whose process is
// gone has its network collected; one whose process is alive gets the owner entry it lacks, so
// that a later crash of it is collected as any other. A state read_state found stale names no
// process and is left to its own container. This boot's record_owner then makes the directory.
Status collect_stale(const Paths& paths, netlink::Nftables& nft) {
    std::optional<netlink::RouteSocket> sock;
    auto collect = [&](const std::string& n) -> Status {
        log::debug("collecting the network of %s, whose run is gone", n.c_str());
        if (!sock) {
            VOLT_TRY_ASSIGN(auto opened, netlink::RouteSocket::open());
            sock.emplace(std::move(opened));
        }
        // Another container's leftovers: what cannot be removed (an owner entry that is a
        // directory, say) is reported and left to that container's own boot, stop or delete,
        // and never fails this boot. Its names and its lease stay its own, so nothing of it
        // collides with this run.
        if (auto st = remove_network_of(paths, n, nft, *sock); !st)
            log::warn("collecting the network of %s, whose run is gone: %s", n.c_str(),
                      st.error().describe().c_str());
        return {};
    };
    if (auto names = fs::list_dir(paths.network_owners_dir())) {
        for (const auto& n : *names)
            if (validate_name(n) && !owner_alive(paths, n) && !running(paths, n))
                VOLT_TRY(collect(n));
    } else if (names.error().code() == ENOENT) {
        if (auto runs = fs::list_dir(paths.run_dir))
            for (const auto& n : *runs) {
                if (!validate_name(n))
                    continue;
                auto state = read_state(paths, n);
                if (!state || !*state || (**state).network.empty() || (**state).nspawn_pid <= 0)
                    continue;
                const pid_t pid = (**state).nspawn_pid;
                if (pid_exists(pid))
                    VOLT_TRY(record_owner(paths, n, pid));
                else
                    VOLT_TRY(collect(n));
            }
    }
    // Namespaces an earlier version bind-mounted in RUN/netns, which may also be the state
    // directory of a container named netns: only namespace mounts there are ours to remove.
    if (auto names = fs::list_dir(paths.legacy_netns_dir()))
        for (const auto& n : *names) {
            std::string path = paths.legacy_netns_dir() + "/" + n;
            if (is_netns_mount(path) && !running(paths, n)) {
                log::debug("collecting the network namespace of %s (old layout)", n.c_str());
                VOLT_TRY(netlink::remove_netns(path));
            }
        }
    return {};
}

// Under the network lock, so that two boots cannot both pass: a host port that a running
// container forwards (its state's ports, which its boot recorded under this lock) is refused,
// naming it.
Status refuse_ports_in_use(const Paths& paths, const Spec& spec) {
    if (spec.ports.empty())
        return {};
    auto names = fs::list_dir(paths.run_dir);
    if (!names)
        return names.error().code() == ENOENT ? Status() : Status(std::move(names).error());
    for (const auto& other : *names) {
        if (other == spec.name || !running(paths, other))
            continue;
        auto state = read_state(paths, other);
        if (!state || !*state)
            continue;
        std::vector<PortForward> theirs;
        for (const auto& text : (**state).network.ports)
            if (auto pf = parse_port(text))
                theirs.push_back(*pf);
        if (auto clash = clashing_port(spec.ports, theirs))
            return port_claimed(*clash, other, "it is running");
    }
    return {};
}

Result<fs::FileLock> lock_network(const Paths& paths) {
    VOLT_TRY(fs::mkdir_p(paths.network_dir(), 0755));
    return fs::FileLock::acquire(paths.network_lock());
}

}  // namespace

bool builds_network(const Spec& spec) {
    return spec.network == NetworkMode::private_net || spec.network == NetworkMode::bridge;
}

NetworkSetup::NetworkSetup(fs::FileLock lock, netlink::Nftables nft, NetworkPlan plan)
    : lock_(std::move(lock)), nft_(std::move(nft)), plan_(std::move(plan)) {
    state_.bridge = plan_.bridge;
    state_.netns = plan_.netns;
    state_.host_ifname = plan_.host_ifname;
    state_.container_ifname = plan_.peer_ifname;
    state_.mac = netlink::to_string(plan_.peer_mac);
    state_.address = netlink::to_string(plan_.address);
    state_.prefix = plan_.prefix;
    state_.gateway = netlink::to_string(plan_.gateway);
    state_.dns = plan_.dns;
    for (const auto& p : plan_.nat.ports)
        state_.ports.push_back(to_string(
            PortForward{p.protocol == IPPROTO_UDP ? "udp" : "tcp", p.host_port, p.container_port}));
}

Result<NetworkSetup> NetworkSetup::prepare(const Paths& paths, const Spec& spec, int nft_fd) {
    VOLT_TRY_ASSIGN(fs::FileLock lock, lock_network(paths));
    VOLT_TRY_ASSIGN(auto nft,
                    nft_fd >= 0 ? netlink::Nftables::adopt(nft_fd) : netlink::Nftables::open());
    VOLT_TRY_CTX(collect_stale(paths, nft), "collecting stale network state");
    VOLT_TRY(refuse_ports_in_use(paths, spec));
    const std::string bridge = bridge_name(spec);

    NetworkFacts facts;
    if (spec.network == NetworkMode::bridge) {
        // A bridge of the user's: its own address names the subnet and the gateway.
        VOLT_TRY_ASSIGN(auto sock, netlink::RouteSocket::open());
        VOLT_TRY_ASSIGN(auto link, sock.link(bridge));
        if (!link || link->kind != "bridge")
            return Error::usage("--network " + bridge + ": " +
                                (link ? "not a bridge (it is a " + link->kind + " link)"
                                      : std::string("no such bridge")));
        VOLT_TRY_ASSIGN(auto addrs, sock.addresses(link->ifindex));
        if (addrs.empty())
            return Error::usage("--network " + bridge +
                                ": the bridge has no IPv4 address to use as gateway");
        const auto& a = addrs.front();
        facts.subnet.prefix = a.prefix;
        facts.subnet.network = netlink::Ipv4{a.address.value & facts.subnet.mask()};
        facts.gateway = a.address;
    } else {
        auto s = netlink::parse_subnet(paths.subnet);
        if (!s)
            return Error::usage("--subnet: " + s.error().describe());
        facts.subnet = *s;
        facts.gateway = facts.subnet.gateway();
    }
    VOLT_TRY_ASSIGN(auto leases, netlink::Leases::load(paths.leases(bridge)));
    VOLT_TRY(leases.use_subnet(facts.subnet));
    auto leased = leases.lease(spec.name, facts.gateway);
    if (!leased && leased.error().code() == ENOSPC) {
        // Only when the subnet is full are the leases of containers that no longer exist looked
        // for (delete releases a lease before it removes the configuration, so these are rare):
        // a stat per lease, which no boot pays while addresses are left.
        for (const auto& holder : leases.holders())
            if (!fs::is_directory(paths.config_dir(holder)))
                leases.release(holder);
        leased = leases.lease(spec.name, facts.gateway);
    }
    if (!leased)
        return std::move(leased).error();
    const netlink::Ipv4 address = *leased;
    if (leases.changed())  // a container that booted before keeps its lease: nothing to write
        VOLT_TRY(leases.save());

    if (auto id = fs::read_file("/etc/machine-id"))
        facts.machine_id = std::move(id).value();
    if (auto resolv = fs::read_file("/etc/resolv.conf"))
        facts.resolv_conf = std::move(resolv).value();
    // Last: from here on a crash of this run is collected by the next set-up, by the name.
    VOLT_TRY(record_owner(paths, spec.name, ::getpid()));
    return NetworkSetup(std::move(lock), std::move(nft), plan_network(spec, paths, facts, address));
}

const std::vector<std::string_view>& NetworkSetup::step_names() {
    static const std::vector<std::string_view> names = {
        "bridge", "sysctl", "netns", "veth", "addresses", "nftables", "resolv.conf"};
    return names;
}

Result<UniqueFd> NetworkSetup::build(const std::function<void(std::string_view)>& after_step,
                                     Steps::Hook before_step) {
    const NetworkPlan& plan = plan_;
    Steps steps(std::move(before_step));
    // Runs one step; its undo is recorded only once it succeeded.
    auto step = [&](std::string_view name, const std::function<Status()>& run,
                    Steps::Undo undo = {}) -> Status {
        VOLT_TRY(steps.run(name, run, std::move(undo)));
        if (after_step)
            after_step(name);
        return {};
    };
    VOLT_TRY_ASSIGN(auto host, netlink::RouteSocket::open());

    int bridge_index = 0;
    unsigned mtu = 0;
    auto make_bridge = [&]() -> Status {
        VOLT_TRY_ASSIGN(auto bridge, host.link(plan.bridge));
        if (!bridge) {
            if (!plan.bridge_ours)
                return Error::usage("--network " + plan.bridge + ": no such bridge");
            VOLT_TRY_ASSIGN(bridge_index, host.add_bridge(plan.bridge, plan.bridge_mac));
            // Recorded at once: the address below may fail after the bridge exists.
            steps.done("bridge made", [&host, &plan, index = bridge_index] {
                remove_bridge_if_unused(host, plan.bridge, index);
            });
            VOLT_TRY_CTX(host.add_address(bridge_index, plan.gateway, plan.prefix), plan.bridge);
            return {};
        }
        if (bridge->kind != "bridge")
            return Error(EEXIST, plan.bridge + " exists and is not a bridge (it is a " +
                                     (bridge->kind.empty() ? "plain" : bridge->kind) + " link)");
        bridge_index = bridge->ifindex;
        mtu = bridge->mtu;
        VOLT_TRY_ASSIGN(auto addrs, host.addresses(bridge_index));
        bool has_gateway = false;
        for (const auto& a : addrs)
            has_gateway = has_gateway || (a.address == plan.gateway && a.prefix == plan.prefix);
        if (!has_gateway && !addrs.empty())
            return Error(EEXIST, plan.bridge + " has address " +
                                     netlink::to_string(addrs.front().address) + "/" +
                                     std::to_string(addrs.front().prefix) + ", not " +
                                     netlink::to_string(plan.gateway) + "/" +
                                     std::to_string(plan.prefix) + " (the gateway of --subnet)");
        if (!has_gateway)  // ours, left without its address by a crash
            VOLT_TRY_CTX(host.add_address(bridge_index, plan.gateway, plan.prefix), plan.bridge);
        if (!bridge->up)
            VOLT_TRY_CTX(host.set_up(bridge_index), plan.bridge);
        return {};
    };
    VOLT_TRY(step("bridge", make_bridge));

    // Host-wide settings other containers rely on too: never undone.
    auto host_sysctls = [&]() -> Status {
        for (const auto& s : plan.host_sysctls)
            VOLT_TRY(sysctl(s));
        return {};
    };
    VOLT_TRY(step("sysctl", host_sysctls));

    std::optional<netlink::RouteSocket> inside;
    UniqueFd netns;
    auto make_netns = [&]() -> Status {
        VOLT_TRY(fs::mkdir_p(fs::dirname(plan.netns), 0755));
        auto made = netlink::create_netns(plan.netns, [&]() -> Status {
            VOLT_TRY_ASSIGN(auto sock, netlink::RouteSocket::open());
            inside.emplace(std::move(sock));
            for (const auto& s : plan.netns_sysctls)
                VOLT_TRY(sysctl(s));
            return {};
        });
        if (!made)
            return std::move(made).error();
        netns = std::move(made).value();
        return {};
    };
    VOLT_TRY(step("netns", make_netns, [&] {
        inside.reset();
        netns.reset();
        warn_if_failed(netlink::remove_netns(plan.netns));
    }));

    auto make_veth = [&]() -> Status {
        netlink::VethRequest veth;
        veth.host_name = plan.host_ifname;
        veth.host_mac = plan.host_mac;
        veth.peer_name = plan.peer_ifname;
        veth.peer_mac = plan.peer_mac;
        veth.peer_netns_fd = netns.get();
        veth.master = bridge_index;
        veth.mtu = mtu;
        veth.alias = plan.host_alias;
        return host.add_veth(veth);
    };
    VOLT_TRY(step("veth", make_veth, [&] { warn_if_failed(host.delete_link(plan.host_ifname)); }));

    // Inside the namespace, on the veth's peer: gone with them, nothing of its own to undo.
    auto set_addresses = [&]() -> Status {
        constexpr int kLoopback = 1;  // the first link of every network namespace
        VOLT_TRY_CTX(inside->set_up(kLoopback), "lo");
        VOLT_TRY_ASSIGN(auto peer, inside->link(plan.peer_ifname));
        if (!peer)
            return Error(ENODEV, plan.peer_ifname + " did not appear in " + plan.netns);
        VOLT_TRY_CTX(inside->set_up(peer->ifindex), plan.peer_ifname);
        VOLT_TRY_CTX(inside->add_address(peer->ifindex, plan.address, plan.prefix),
                     plan.peer_ifname);
        VOLT_TRY_CTX(inside->add_default_route(peer->ifindex, plan.gateway), plan.peer_ifname);
        return {};
    };
    VOLT_TRY(step("addresses", set_addresses));

    auto add_rules = [&]() -> Status { return nft_->apply(plan.nat); };
    VOLT_TRY(step("nftables", add_rules, [&] { warn_if_failed(nft_->remove(plan.nat.owner)); }));

    // The last step, so nothing in build() can fail after it; the write replaces the file by a
    // rename, so a failure in it leaves the guest's file as it was. No undo.
    auto write_resolv = [&]() -> Status {
        VOLT_TRY_ASSIGN(auto root, root_fd_ >= 0
                                       ? rootfs::ContainerRoot::of_fd(root_fd_, plan.rootfs)
                                       : rootfs::ContainerRoot::open(plan.rootfs));
        return root.write_file("/etc", "resolv.conf", plan.resolv_conf, 0644);
    };
    VOLT_TRY_CTX(step("resolv.conf", write_resolv), "writing the container's resolv.conf");
    steps.commit();
    return netns;
}

Status teardown_network(const Paths& paths, const std::string& name) {
    if (!fs::is_directory(paths.network_dir()))
        return {};  // no network was ever built here
    auto lock = lock_network(paths);
    if (!lock)
        return std::move(lock).error();
    VOLT_TRY_ASSIGN(auto nft, netlink::Nftables::open());
    VOLT_TRY_ASSIGN(auto sock, netlink::RouteSocket::open());
    return remove_network_of(paths, name, nft, sock);
}

Status release_lease(const Paths& paths, const std::string& name) {
    if (!fs::is_directory(paths.network_dir()))
        return {};  // no network was ever built here
    auto lock = lock_network(paths);
    if (!lock)
        return std::move(lock).error();
    return release_leases_if(paths, [&](const std::string& holder) { return holder == name; });
}

}  // namespace volt::runtime
