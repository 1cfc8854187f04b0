#include "netlink/address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace volt::netlink {

std::uint32_t Ipv4::network_order() const {
    return htonl(value);
}

Result<Ipv4> parse_ipv4(std::string_view text) {
    in_addr a{};
    if (std::string s(text); ::inet_pton(AF_INET, s.c_str(), &a) != 1)
        return Error(EINVAL, "'" + s + "' is not an IPv4 address");
    return Ipv4{ntohl(a.s_addr)};
}

Result<Subnet> parse_subnet(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return Error(EINVAL, "invalid subnet '" + std::string(text) + "': " + why);
    };
    auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return bad("expected ADDRESS/PREFIX, such as 10.88.0.0/16");
    auto addr = parse_ipv4(text.substr(0, slash));
    if (!addr)
        return bad("not an IPv4 address before the '/'");
    std::string_view p = text.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || end != p.data() + p.size() || prefix < 1 || prefix > 30)
        return bad("the prefix length must be 1 to 30");
    Subnet s{*addr, prefix};
    if ((addr->value & s.mask()) != addr->value)
        return bad("host bits are set (did you mean " +
                   to_string(Subnet{{addr->value & s.mask()}, prefix}) + "?)");
    // Addresses a bridge and its containers cannot use: "this network", loopback (the kernel
    // routes 127/8 to lo), and multicast and reserved (224.0.0.0 and up).
    struct Range {
        std::uint32_t network;
        int prefix;
        const char* what;
    };
    for (Range r : {Range{0x00000000, 8, "0.0.0.0/8 (this network)"},
                    Range{0x7f000000, 8, "127.0.0.0/8 (loopback)"},
                    Range{0xe0000000, 3, "224.0.0.0/3 (multicast and reserved)"}}) {
        int common = std::min(prefix, r.prefix);
        std::uint32_t mask = ~std::uint32_t{0} << (32 - common);
        if ((addr->value & mask) == (r.network & mask))
            return bad(std::string("overlaps ") + r.what);
    }
    return s;
}

std::string to_string(Ipv4 a) {
    in_addr n{htonl(a.value)};
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &n, buf, sizeof buf);
    return buf;
}

std::string to_string(const Subnet& s) {
    return to_string(s.network) + "/" + std::to_string(s.prefix);
}

}  // namespace volt::netlink
