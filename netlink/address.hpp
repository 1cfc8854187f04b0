// IPv4 addresses and subnets as plain values (host byte order), parsed and printed without
// touching the network: what IPAM, the link code and nftables rules share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace volt::netlink {

struct Ipv4 {
    std::uint32_t value = 0;  // host byte order
    std::uint32_t network_order() const;
    bool operator==(const Ipv4&) const = default;
    auto operator<=>(const Ipv4&) const = default;
};

struct Subnet {
    Ipv4 network;    // host bits are zero
    int prefix = 0;  // 1..30: a subnet needs room for a gateway and a host

    std::uint32_t mask() const { return prefix == 0 ? 0 : ~0u << (32 - prefix); }
    bool contains(Ipv4 a) const { return (a.value & mask()) == network.value; }
    // The gateway is the first host address (.1); containers get the ones after it.
    Ipv4 gateway() const { return {network.value + 1}; }
    Ipv4 first_lease() const { return {network.value + 2}; }
    Ipv4 last_lease() const { return {(network.value | ~mask()) - 1}; }  // below the broadcast
    bool operator==(const Subnet&) const = default;
};

Result<Ipv4> parse_ipv4(std::string_view text);
// "10.88.0.0/16". Host bits must be zero; the error names the value and what is wrong.
Result<Subnet> parse_subnet(std::string_view text);

std::string to_string(Ipv4 a);
std::string to_string(const Subnet& s);  // "10.88.0.0/16"

}  // namespace volt::netlink
