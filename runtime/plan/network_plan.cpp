#include "runtime/plan/network_plan.hpp"

#include <netinet/in.h>

#include "base/fs.hpp"

namespace volt::runtime {
namespace {

std::string first_word(std::string_view text) {
    auto w = fs::words(text);
    return w.empty() ? std::string() : std::string(w[0]);
}

}  // namespace

std::string bridge_name(const Spec& spec) {
    return spec.network == NetworkMode::bridge ? spec.bridge : kDefaultBridge;
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

NetworkPlan plan_network(const Spec& spec, const Paths& paths, const NetworkFacts& facts,
                         netlink::Ipv4 address) {
    const std::string mid = first_word(facts.machine_id);
    NetworkPlan p;
    p.name = spec.name;
    p.bridge = bridge_name(spec);
    p.bridge_ours = spec.network != NetworkMode::bridge;
    p.bridge_mac = netlink::derive_mac(mid, "bridge", p.bridge);
    p.subnet = facts.subnet;
    p.gateway = facts.gateway;

    p.netns = paths.netns(spec.name);
    p.host_ifname = netlink::host_ifname(spec.name);
    p.host_mac = netlink::derive_mac(mid, "host", spec.name);
    p.host_alias = std::string(netlink::kLinkAliasPrefix) + spec.name;
    p.peer_ifname = netlink::kContainerIfname;
    p.peer_mac = netlink::derive_mac(mid, "container", spec.name);
    p.address = address;
    p.prefix = facts.subnet.prefix;

    p.host_sysctls.push_back({"/proc/sys/net/ipv4/ip_forward", "1"});
    // Port forwards from the host's loopback reach the bridge with source 127.0.0.1, which the
    // kernel drops on other interfaces unless route_localnet allows it.
    if (!spec.ports.empty())
        p.host_sysctls.push_back({"/proc/sys/net/ipv4/conf/" + p.bridge + "/route_localnet", "1"});
    // The namespace belongs to the host's user namespace, not to the container's: its root
    // cannot configure the network (as intended) nor, by default, bind ports below 1024 or open
    // ICMP echo sockets. These two per-namespace sysctls give back the latter two, as nspawn's
    // own --private-network (a namespace the container owns) would.
    p.netns_sysctls = {{"/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"},
                       {"/proc/sys/net/ipv4/ping_group_range", "0\t2147483647"}};

    p.dns = nameservers(spec, facts.resolv_conf);
    p.rootfs = paths.rootfs(spec.name);
    p.resolv_conf = "# written by volt-run at boot\n";
    for (const auto& ns : p.dns)
        p.resolv_conf += "nameserver " + ns + "\n";

    p.nat.owner = spec.name;
    p.nat.address = address;
    p.nat.bridge = p.bridge;
    p.nat.subnet = facts.subnet;
    for (const auto& f : spec.ports)
        p.nat.ports.push_back(
            {static_cast<std::uint8_t>(f.protocol == "udp" ? IPPROTO_UDP : IPPROTO_TCP), f.host,
             f.container});
    return p;
}

std::string render(const NetworkPlan& p) {
    using netlink::to_string;
    std::string out;
    auto line = [&](std::string text) { out += text + "\n"; };
    line("container " + p.name);
    line("bridge " + p.bridge + " " + to_string(p.bridge_mac) +
         (p.bridge_ours ? " ours (made when missing)" : " the user's (must exist)"));
    line("subnet " + to_string(p.subnet) + " gateway " + to_string(p.gateway));
    line("netns " + p.netns);
    line("veth " + p.host_ifname + " " + to_string(p.host_mac) + " alias " + p.host_alias);
    line("peer " + p.peer_ifname + " " + to_string(p.peer_mac) + " " + to_string(p.address) + "/" +
         std::to_string(p.prefix) + " via " + to_string(p.gateway));
    for (const auto& s : p.host_sysctls)
        line("sysctl host " + s.path + " = " + s.value);
    for (const auto& s : p.netns_sysctls)
        line("sysctl netns " + s.path + " = " + s.value);
    line("resolv.conf " + p.rootfs + "/etc/resolv.conf");
    for (auto l : fs::split(p.resolv_conf, '\n'))
        if (!l.empty())
            line("  | " + std::string(l));
    line("nat " + p.nat.owner + " " + to_string(p.nat.address) + " masquerade except via " +
         p.nat.bridge + ", hairpin from " + to_string(p.nat.subnet));
    for (const auto& f : p.nat.ports)
        line(std::string("  forward ") + (f.protocol == IPPROTO_UDP ? "udp" : "tcp") + " " +
             std::to_string(f.host_port) + " -> " + std::to_string(f.container_port));
    return out;
}

}  // namespace volt::runtime
