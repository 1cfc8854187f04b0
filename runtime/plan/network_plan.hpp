// The network part of a boot as a value: what NetworkSetup::build makes, computed by a pure
// function from the spec, the leased address and the host facts prepare() gathers. Every name,
// address and MAC is decided here; the executor (runtime/verbs/network.cpp) only carries it out,
// each step with its undo.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netlink/address.hpp"
#include "netlink/names.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"

namespace volt::runtime {

// The bridge volt-run makes for --network private.
inline constexpr const char* kDefaultBridge = "voltbr0";

// What prepare() reads from the host, under the network lock, before planning.
struct NetworkFacts {
    std::string machine_id;   // the text of /etc/machine-id (its first word is used)
    std::string resolv_conf;  // the text of the host's /etc/resolv.conf
    netlink::Subnet subnet;   // --subnet, or the one the user's bridge's address names
    netlink::Ipv4 gateway;    // the bridge's address: the subnet's first for ours
};

// A sysctl file and the value it must hold (written only when it holds another).
struct Sysctl {
    std::string path;  // "/proc/sys/net/ipv4/ip_forward"
    std::string value;
};

struct NetworkPlan {
    std::string name;  // the container's
    std::string bridge;
    netlink::Mac bridge_mac{};
    // Ours to create when missing (voltbr0, --network private); a bridge of the user's must
    // exist. The executor removes a bridge only when it made it and nothing else is attached.
    bool bridge_ours = false;
    netlink::Subnet subnet;
    netlink::Ipv4 gateway;  // the bridge's address

    std::string netns;  // path of the persistent network namespace
    std::string host_ifname;
    netlink::Mac host_mac{};
    std::string host_alias;   // "volt:NAME": how stale links are recognized
    std::string peer_ifname;  // inside the namespace
    netlink::Mac peer_mac{};
    netlink::Ipv4 address;  // leased
    int prefix = 0;

    std::vector<Sysctl> host_sysctls;   // in the host's network namespace
    std::vector<Sysctl> netns_sysctls;  // in the container's

    std::vector<std::string> dns;
    std::string rootfs;       // where resolv.conf goes (its /etc)
    std::string resolv_conf;  // the text of the container's /etc/resolv.conf

    netlink::ContainerNat nat;  // masquerade and port forwards, encoded by netlink/nft.hpp
};

// The bridge a spec's network hangs on: its own for --network NAME, else voltbr0.
std::string bridge_name(const Spec& spec);

// Pure: the same plan for the same spec, paths, facts and address. spec.network is private or
// bridge (builds_network).
NetworkPlan plan_network(const Spec& spec, const Paths& paths, const NetworkFacts& facts,
                         netlink::Ipv4 address);

// A few lines, one fact per line ("veth ve-web1 0a:…"), for golden tests and debug logs.
std::string render(const NetworkPlan& plan);

// The nameservers for a container: the spec's, else the host's non-loopback ones, else 1.1.1.1
// and 1.0.0.1. resolv_conf is the text of the host's resolv.conf.
std::vector<std::string> nameservers(const Spec& spec, std::string_view resolv_conf);

}  // namespace volt::runtime
