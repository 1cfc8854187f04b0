// Names and addresses derived from a container's name, the same on every boot: interface names
// (IFNAMSIZ allows 15 bytes) and locally administered MAC addresses.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace volt::netlink {

// The container's end of its veth pair, inside its own network namespace (nspawn's name for it).
inline constexpr const char* kContainerIfname = "host0";
// Host ends carry this alias followed by the container's name: how stale links are recognized
// without confusing them with links somebody else made (nspawn's own ve-* links, for example).
inline constexpr std::string_view kLinkAliasPrefix = "volt:";

// "ve-NAME" for names of up to 12 bytes; longer names keep their first 5 bytes and add '+' and 6
// hex digits of a hash of the whole name ("ve-stora+1f2e3d"). '+' never occurs in a container
// name, so a hashed name cannot be a short one.
std::string host_ifname(std::string_view container);

using Mac = std::array<std::uint8_t, 6>;
// Locally administered unicast address from the machine id, a role ("host", "container",
// "bridge") and a name: stable across boots, different per machine.
Mac derive_mac(std::string_view machine_id, std::string_view role, std::string_view name);
std::string to_string(const Mac& mac);  // "0a:1b:…"

}  // namespace volt::netlink
