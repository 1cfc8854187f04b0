// Links, addresses and routes over rtnetlink (libnl-route-3). A RouteSocket talks to the network
// namespace it was opened in. Errors carry the kernel's own errno ("ve-web1: File exists"), taken
// from the netlink error message rather than from libnl's translated codes or a stale errno.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "netlink/address.hpp"
#include "netlink/names.hpp"

struct nl_sock;

namespace volt::netlink {

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::string kind;   // "bridge", "veth", … ("" for lo)
    std::string alias;  // IFLA_IFALIAS
    int master = 0;     // ifindex of the bridge it is attached to, or 0
    unsigned mtu = 0;
    bool up = false;
    Mac mac{};
};

struct AddressInfo {
    Ipv4 address;
    int prefix = 0;
};

struct VethRequest {
    std::string host_name;  // in this socket's namespace
    Mac host_mac{};
    std::string peer_name;  // created directly in peer_netns_fd's namespace
    Mac peer_mac{};
    int peer_netns_fd = -1;
    int master = 0;     // bridge ifindex for the host end
    unsigned mtu = 0;   // 0: the kernel's default
    std::string alias;  // IFLA_IFALIAS of the host end
};

class RouteSocket {
  public:
    // A socket in the calling thread's current network namespace.
    static Result<RouteSocket> open();
    RouteSocket(RouteSocket&&) noexcept;
    RouteSocket& operator=(RouteSocket&&) noexcept;
    ~RouteSocket();

    // nullopt when no link has that name.
    Result<std::optional<LinkInfo>> link(const std::string& name);
    Result<std::vector<LinkInfo>> links();
    Result<std::vector<AddressInfo>> addresses(int ifindex);
    // The gateway of the IPv4 default route, if there is one.
    Result<std::optional<Ipv4>> default_gateway();

    // Creates a bridge, up, with a fixed MAC (a bridge otherwise takes the lowest MAC of its
    // ports, which changes as containers come and go). Returns its ifindex.
    Result<int> add_bridge(const std::string& name, const Mac& mac);
    Status add_veth(const VethRequest& request);
    Status set_up(int ifindex);
    Status add_address(int ifindex, Ipv4 address, int prefix);
    Status add_default_route(int ifindex, Ipv4 gateway);
    // Deleting one end of a veth pair deletes both. false when there was no such link.
    Result<bool> delete_link(const std::string& name);

  private:
    RouteSocket(nl_sock* sock, std::unique_ptr<int> error);
    Error fail(int nl_error, const std::string& what) const;
    nl_sock* sock_ = nullptr;
    // Written by the error callback: the errno of the kernel's last NLMSG_ERROR.
    std::unique_ptr<int> kernel_errno_;
};

}  // namespace volt::netlink
