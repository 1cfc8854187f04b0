#include "netlink/names.hpp"

#include <cstdio>

#include "base/hash.hpp"

namespace volt::netlink {

std::string host_ifname(std::string_view container) {
    constexpr std::string_view prefix = "ve-";
    if (prefix.size() + container.size() <= 15)
        return std::string(prefix) + std::string(container);
    std::string h = hash::hex(hash::fnv1a(container));
    return std::string(prefix) + std::string(container.substr(0, 5)) + "+" + h.substr(h.size() - 6);
}

Mac derive_mac(std::string_view machine_id, std::string_view role, std::string_view name) {
    std::uint64_t h =
        hash::fnv1a(name, hash::fnv1a("|", hash::fnv1a(role, hash::fnv1a(machine_id))));
    Mac mac;
    for (auto& byte : mac) {
        byte = static_cast<std::uint8_t>(h);
        h >>= 8;
    }
    mac[0] = static_cast<std::uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
    return mac;
}

std::string to_string(const Mac& mac) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return buf;
}

}  // namespace volt::netlink
