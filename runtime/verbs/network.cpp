#include "runtime/verbs/network.hpp"

#include <linux/magic.h>
#include <netinet/in.h>
#include <sys/vfs.h>

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

constexpr const char* kBridge = "voltbr0";

std::string machine_id() {
    auto text = fs::read_file("/etc/machine-id");
    if (!text)
        return {};
    auto w = fs::words(*text);
    return w.empty() ? std::string() : std::string(w[0]);
}

bool running(const Paths& paths, const std::string& name) {
    if (!validate_name(name))
        return false;
    auto state = read_state(paths, name);
    return state && *state && open_nspawn(**state);
}

// Writes a sysctl of the current network namespace if it does not hold value already.
Status sysctl(const std::string& dir, const char* name, std::string_view value) {
    auto fd = fs::open_dir(dir);
    if (!fd)
        return std::move(fd).error();
    auto now = fs::read_file_at(fd->get(), name);
    if (now && fs::words(*now) == fs::words(value))
        return {};
    VOLT_TRY_CTX(fs::write_existing(fd->get(), name, value), dir);
    return {};
}

// Drops the leases whose holder matches, in every lease file; the caller holds the network lock.
Status release_leases_if(const Paths& paths,
                         const std::function<bool(const std::string& holder)>& match) {
    auto files = fs::list_dir(paths.network_dir());
    if (!files)
        return files.error().code() == ENOENT ? Status() : Status(std::move(files).error());
    for (const auto& f : *files) {
        if (!f.ends_with(".leases"))
            continue;
        auto leases = netlink::Leases::load(paths.network_dir() + "/" + f);
        if (!leases)
            return std::move(leases).error();
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

// What crashed runs left: namespaces, links and rules of containers that do not run, leases of
// containers that no longer exist. Runs under the network lock.
Status collect_stale(const Paths& paths) {
    auto alive = [&](const std::string& n) { return running(paths, n); };
    if (auto names = fs::list_dir(paths.netns_dir()))
        for (const auto& n : *names)
            if (!alive(n)) {
                log::debug("collecting the network namespace of %s", n.c_str());
                VOLT_TRY(netlink::remove_netns(paths.netns(n)));
            }
    // Namespaces an earlier version bind-mounted in RUN/netns, which may also be the state
    // directory of a container named netns: only namespace mounts there are ours to remove.
    if (auto names = fs::list_dir(paths.legacy_netns_dir()))
        for (const auto& n : *names) {
            std::string path = paths.legacy_netns_dir() + "/" + n;
            if (is_netns_mount(path) && !alive(n)) {
                log::debug("collecting the network namespace of %s (old layout)", n.c_str());
                VOLT_TRY(netlink::remove_netns(path));
            }
        }
    auto sock = netlink::RouteSocket::open();
    if (!sock)
        return std::move(sock).error();
    auto links = sock->links();
    if (!links)
        return std::move(links).error();
    for (const auto& l : *links) {
        if (!l.alias.starts_with(netlink::kLinkAliasPrefix))
            continue;
        std::string owner = l.alias.substr(netlink::kLinkAliasPrefix.size());
        if (!alive(owner)) {
            log::debug("collecting link %s of %s", l.name.c_str(), owner.c_str());
            VOLT_TRY(sock->delete_link(l.name));
        }
    }
    auto nft = netlink::Nftables::open();
    if (!nft)
        return std::move(nft).error();
    VOLT_TRY(nft->remove_if([&](const std::string& owner) { return !alive(owner); }));
    return release_leases_if(paths, [&](const std::string& holder) {
        return !fs::is_directory(paths.config_dir(holder));  // the container was deleted
    });
}

Result<fs::FileLock> lock_network(const Paths& paths) {
    VOLT_TRY(fs::mkdir_p(paths.network_dir(), 0755));
    return fs::FileLock::acquire(paths.network_lock());
}

}  // namespace

bool builds_network(const Spec& spec) {
    return spec.network == NetworkMode::private_net || spec.network == NetworkMode::bridge;
}

std::vector<std::string> nameservers(const Spec& spec, std::string_view resolv_conf) {
    if (!spec.dns.empty())
        return spec.dns;
    std::vector<std::string> out;
    for (auto line : fs::split(resolv_conf, '\n')) {
        auto w = fs::words(line);
        if (w.size() < 2 || w[0] != "nameserver")
            continue;
        std::string_view a = w[1];
        // A resolver on the host's loopback (systemd-resolved, dnsmasq) is not reachable from
        // the container's own network namespace.
        if (a.starts_with("127.") || a == "::1")
            continue;
        out.emplace_back(a);
    }
    if (out.empty())
        out = {"1.1.1.1", "1.0.0.1"};
    return out;
}

Result<NetworkSetup> NetworkSetup::prepare(const Paths& paths, const Spec& spec) {
    auto lock = lock_network(paths);
    if (!lock)
        return std::move(lock).error();
    VOLT_TRY_CTX(collect_stale(paths), "collecting stale network state");
    NetworkSetup setup(std::move(lock).value(), paths, spec);
    NetworkState& plan = setup.plan_;
    plan.bridge = spec.network == NetworkMode::bridge ? spec.bridge : kBridge;

    netlink::Subnet subnet;
    std::optional<netlink::Ipv4> reserved;
    if (spec.network == NetworkMode::bridge) {
        // A bridge of the user's: its own address names the subnet and the gateway.
        auto sock = netlink::RouteSocket::open();
        if (!sock)
            return std::move(sock).error();
        auto link = sock->link(plan.bridge);
        if (!link)
            return std::move(link).error();
        if (!*link || (*link)->kind != "bridge")
            return Error::usage("--network " + plan.bridge + ": " +
                                (*link ? "not a bridge (it is a " + (*link)->kind + " link)"
                                       : std::string("no such bridge")));
        auto addrs = sock->addresses((*link)->ifindex);
        if (!addrs)
            return std::move(addrs).error();
        if (addrs->empty())
            return Error::usage("--network " + plan.bridge +
                                ": the bridge has no IPv4 address to use as gateway");
        const auto& a = addrs->front();
        subnet.prefix = a.prefix;
        subnet.network = netlink::Ipv4{a.address.value & subnet.mask()};
        reserved = a.address;
    } else {
        auto s = netlink::parse_subnet(paths.subnet);
        if (!s)
            return Error::usage("--subnet: " + s.error().describe());
        subnet = *s;
        reserved = subnet.gateway();
    }
    auto leases = netlink::Leases::load(paths.leases(plan.bridge));
    if (!leases)
        return std::move(leases).error();
    VOLT_TRY(leases->use_subnet(subnet));
    auto address = leases->lease(spec.name, reserved);
    if (!address)
        return std::move(address).error();
    if (leases->changed())  // a container that booted before keeps its lease: nothing to write
        VOLT_TRY(leases->save());

    plan.netns = paths.netns(spec.name);
    plan.host_ifname = netlink::host_ifname(spec.name);
    plan.container_ifname = netlink::kContainerIfname;
    plan.mac = netlink::to_string(netlink::derive_mac(machine_id(), "container", spec.name));
    plan.address = netlink::to_string(*address);
    plan.prefix = subnet.prefix;
    plan.gateway = netlink::to_string(*reserved);
    auto resolv = fs::read_file("/etc/resolv.conf");
    plan.dns = nameservers(spec, resolv ? *resolv : std::string());
    for (const auto& p : spec.ports)
        plan.ports.push_back(to_string(p));
    return setup;
}

Result<UniqueFd> NetworkSetup::build(const std::function<void(std::string_view)>& after_step) {
    auto step = [&](std::string_view s) {
        if (after_step)
            after_step(s);
    };
    const NetworkState& plan = plan_;
    const std::string mid = machine_id();
    auto address = netlink::parse_ipv4(plan.address);
    auto gateway = netlink::parse_ipv4(plan.gateway);
    if (!address || !gateway)
        return Error(EINVAL, "malformed network plan");
    auto host = netlink::RouteSocket::open();
    if (!host)
        return std::move(host).error();

    auto bridge = host->link(plan.bridge);
    if (!bridge)
        return std::move(bridge).error();
    int bridge_index = 0;
    unsigned mtu = 0;
    if (!*bridge) {
        if (spec_.network == NetworkMode::bridge)
            return Error::usage("--network " + plan.bridge + ": no such bridge");
        auto made = host->add_bridge(plan.bridge, netlink::derive_mac(mid, "bridge", plan.bridge));
        if (!made)
            return std::move(made).error();
        bridge_index = *made;
        VOLT_TRY_CTX(host->add_address(bridge_index, *gateway, plan.prefix), plan.bridge);
    } else {
        if ((*bridge)->kind != "bridge")
            return Error(EEXIST, plan.bridge + " exists and is not a bridge (it is a " +
                                     ((*bridge)->kind.empty() ? "plain" : (*bridge)->kind) +
                                     " link)");
        bridge_index = (*bridge)->ifindex;
        mtu = (*bridge)->mtu;
        auto addrs = host->addresses(bridge_index);
        if (!addrs)
            return std::move(addrs).error();
        bool has_gateway = false;
        for (const auto& a : *addrs)
            has_gateway = has_gateway || (a.address == *gateway && a.prefix == plan.prefix);
        if (!has_gateway && !addrs->empty())
            return Error(
                EEXIST, plan.bridge + " has address " + netlink::to_string(addrs->front().address) +
                            "/" + std::to_string(addrs->front().prefix) + ", not " + plan.gateway +
                            "/" + std::to_string(plan.prefix) + " (the gateway of --subnet)");
        if (!has_gateway)  // ours, left without its address by a crash
            VOLT_TRY_CTX(host->add_address(bridge_index, *gateway, plan.prefix), plan.bridge);
        if (!(*bridge)->up)
            VOLT_TRY_CTX(host->set_up(bridge_index), plan.bridge);
    }
    step("bridge");

    VOLT_TRY(sysctl("/proc/sys/net/ipv4", "ip_forward", "1"));
    // Port forwards from the host's loopback reach the bridge with source 127.0.0.1, which the
    // kernel drops on other interfaces unless route_localnet allows it.
    if (!plan.ports.empty())
        VOLT_TRY(sysctl("/proc/sys/net/ipv4/conf/" + plan.bridge, "route_localnet", "1"));
    step("sysctl");

    VOLT_TRY(fs::mkdir_p(paths_.netns_dir(), 0755));
    std::optional<netlink::RouteSocket> inside;
    auto netns = netlink::create_netns(plan.netns, [&]() -> Status {
        auto s = netlink::RouteSocket::open();
        if (!s)
            return std::move(s).error();
        inside.emplace(std::move(s).value());
        // The namespace belongs to the host's user namespace, not to the container's: its root
        // cannot configure the network (as intended) nor, by default, bind ports below 1024 or
        // open ICMP echo sockets. These two per-namespace sysctls give back the latter two,
        // as nspawn's own --private-network (a namespace the container owns) would.
        VOLT_TRY(sysctl("/proc/sys/net/ipv4", "ip_unprivileged_port_start", "0"));
        return sysctl("/proc/sys/net/ipv4", "ping_group_range", "0\t2147483647");
    });
    if (!netns)
        return std::move(netns).error();
    step("netns");

    netlink::VethRequest veth;
    veth.host_name = plan.host_ifname;
    veth.host_mac = netlink::derive_mac(mid, "host", spec_.name);
    veth.peer_name = plan.container_ifname;
    veth.peer_mac = netlink::derive_mac(mid, "container", spec_.name);
    veth.peer_netns_fd = netns->get();
    veth.master = bridge_index;
    veth.mtu = mtu;
    veth.alias = std::string(netlink::kLinkAliasPrefix) + spec_.name;
    VOLT_TRY(host->add_veth(veth));
    step("veth");

    constexpr int kLoopback = 1;  // the first link of every network namespace
    VOLT_TRY_CTX(inside->set_up(kLoopback), "lo");
    auto peer = inside->link(plan.container_ifname);
    if (!peer)
        return std::move(peer).error();
    if (!*peer)
        return Error(ENODEV, plan.container_ifname + " did not appear in " + plan.netns);
    const int peer_index = (*peer)->ifindex;
    VOLT_TRY_CTX(inside->set_up(peer_index), plan.container_ifname);
    VOLT_TRY_CTX(inside->add_address(peer_index, *address, plan.prefix), plan.container_ifname);
    VOLT_TRY_CTX(inside->add_default_route(peer_index, *gateway), plan.container_ifname);
    step("addresses");

    netlink::ContainerNat nat;
    nat.owner = spec_.name;
    nat.address = *address;
    nat.bridge = plan.bridge;
    nat.subnet.prefix = plan.prefix;
    nat.subnet.network = netlink::Ipv4{gateway->value & nat.subnet.mask()};
    for (const auto& p : spec_.ports)
        nat.ports.push_back(
            {static_cast<std::uint8_t>(p.protocol == "udp" ? IPPROTO_UDP : IPPROTO_TCP), p.host,
             p.container});
    auto nft = netlink::Nftables::open();
    if (!nft)
        return std::move(nft).error();
    VOLT_TRY(nft->apply(nat));
    step("nftables");

    std::string resolv = "# written by volt-run at boot\n";
    for (const auto& ns : plan.dns)
        resolv += "nameserver " + ns + "\n";
    auto root = rootfs::ContainerRoot::open(paths_.rootfs(spec_.name));
    if (!root)
        return std::move(root).error().context("writing the container's resolv.conf");
    VOLT_TRY_CTX(root->write_file("/etc", "resolv.conf", resolv, 0644),
                 "writing the container's resolv.conf");
    step("resolv.conf");
    return std::move(netns).value();
}

Status teardown_network(const Paths& paths, const std::string& name) {
    if (!fs::is_directory(paths.network_dir()))
        return {};  // no network was ever built here
    auto lock = lock_network(paths);
    if (!lock)
        return std::move(lock).error();
    auto nft = netlink::Nftables::open();
    if (!nft)
        return std::move(nft).error();
    VOLT_TRY(nft->remove(name));
    auto sock = netlink::RouteSocket::open();
    if (!sock)
        return std::move(sock).error();
    // Only a link carrying our alias: after a failed set-up the name may be somebody else's.
    std::string ifname = netlink::host_ifname(name);
    auto link = sock->link(ifname);
    if (!link)
        return std::move(link).error();
    if (*link && (*link)->alias == std::string(netlink::kLinkAliasPrefix) + name)
        VOLT_TRY(sock->delete_link(ifname));
    // A run booted by an earlier version has its namespace in RUN/netns (see collect_stale).
    if (std::string legacy = paths.legacy_netns_dir() + "/" + name; is_netns_mount(legacy))
        VOLT_TRY(netlink::remove_netns(legacy));
    return netlink::remove_netns(paths.netns(name));
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
