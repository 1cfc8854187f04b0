#include "netlink/link.hpp"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include <cstring>

namespace volt::netlink {
namespace {

int record_kernel_error(sockaddr_nl*, nlmsgerr* err, void* arg) {
    *static_cast<int*>(arg) = -err->error;
    return NL_STOP;  // libnl then returns its own code for the same error
}

// Owners for libnl's reference-counted objects.
struct LinkPtr {
    rtnl_link* p;
    ~LinkPtr() {
        if (p)
            rtnl_link_put(p);
    }
};
struct AddrPtr {
    nl_addr* p;
    ~AddrPtr() {
        if (p)
            nl_addr_put(p);
    }
};
struct CachePtr {
    nl_cache* p = nullptr;
    ~CachePtr() {
        if (p)
            nl_cache_free(p);
    }
};

nl_addr* ipv4_addr(Ipv4 a, int prefix) {
    std::uint32_t n = a.network_order();
    nl_addr* addr = nl_addr_build(AF_INET, &n, sizeof n);
    if (addr)
        nl_addr_set_prefixlen(addr, prefix);
    return addr;
}

nl_addr* mac_addr(const Mac& mac) {
    return nl_addr_build(AF_LLC, mac.data(), mac.size());
}

LinkInfo info_of(rtnl_link* l) {
    LinkInfo info;
    info.ifindex = rtnl_link_get_ifindex(l);
    if (const char* n = rtnl_link_get_name(l))
        info.name = n;
    if (const char* k = rtnl_link_get_type(l))
        info.kind = k;
    if (const char* a = rtnl_link_get_ifalias(l))
        info.alias = a;
    info.master = rtnl_link_get_master(l);
    info.mtu = rtnl_link_get_mtu(l);
    info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == info.mac.size())
        std::memcpy(info.mac.data(), nl_addr_get_binary_addr(a), info.mac.size());
    return info;
}

}  // namespace

RouteSocket::RouteSocket(nl_sock* sock, std::unique_ptr<int> error)
    : sock_(sock), kernel_errno_(std::move(error)) {}

RouteSocket::RouteSocket(RouteSocket&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)), kernel_errno_(std::move(other.kernel_errno_)) {}

RouteSocket& RouteSocket::operator=(RouteSocket&& other) noexcept {
    if (this != &other) {
        if (sock_)
            nl_socket_free(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
        kernel_errno_ = std::move(other.kernel_errno_);
    }
    return *this;
}

RouteSocket::~RouteSocket() {
    if (sock_)
        nl_socket_free(sock_);
}

Result<RouteSocket> RouteSocket::open() {
    nl_sock* sock = nl_socket_alloc();
    if (!sock)
        return Error(ENOMEM, "allocating a netlink socket");
    auto error = std::make_unique<int>(0);
    nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, record_kernel_error, error.get());
    if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
        nl_socket_free(sock);
        return Error(0, std::string("connecting to rtnetlink: ") + nl_geterror(err));
    }
    return RouteSocket(sock, std::move(error));
}

Error RouteSocket::fail(int nl_error, const std::string& what) const {
    if (*kernel_errno_)
        return Error(*kernel_errno_, what);
    return Error(0, what + ": " + nl_geterror(nl_error));
}

Result<std::optional<LinkInfo>> RouteSocket::link(const std::string& name) {
    *kernel_errno_ = 0;
    rtnl_link* l = nullptr;
    int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &l);
    // rtnl_link_get_kernel() installs its own error callback: only libnl's code tells here.
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV || *kernel_errno_ == ENODEV)
        return std::optional<LinkInfo>();
    if (err < 0)
        return fail(err, name);
    LinkPtr owner{l};
    return std::optional<LinkInfo>(info_of(l));
}

Result<std::vector<LinkInfo>> RouteSocket::links() {
    *kernel_errno_ = 0;
    CachePtr cache;
    if (int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &cache.p); err < 0)
        return fail(err, "listing links");
    std::vector<LinkInfo> out;
    for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o))
        out.push_back(info_of(reinterpret_cast<rtnl_link*>(o)));
    return out;
}

Result<std::vector<AddressInfo>> RouteSocket::addresses(int ifindex) {
    *kernel_errno_ = 0;
    CachePtr cache;
    if (int err = rtnl_addr_alloc_cache(sock_, &cache.p); err < 0)
        return fail(err, "listing addresses");
    std::vector<AddressInfo> out;
    for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        nl_addr* local = rtnl_addr_get_local(a);
        if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET || !local)
            continue;
        std::uint32_t n;
        std::memcpy(&n, nl_addr_get_binary_addr(local), sizeof n);
        out.push_back({Ipv4{ntohl(n)}, rtnl_addr_get_prefixlen(a)});
    }
    return out;
}

Result<std::optional<Ipv4>> RouteSocket::default_gateway() {
    *kernel_errno_ = 0;
    CachePtr cache;
    if (int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &cache.p); err < 0)
        return fail(err, "listing routes");
    for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
        auto* r = reinterpret_cast<rtnl_route*>(o);
        nl_addr* dst = rtnl_route_get_dst(r);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst) != 0) ||
            rtnl_route_get_nnexthops(r) < 1)
            continue;
        nl_addr* gw = rtnl_route_nh_get_gateway(rtnl_route_nexthop_n(r, 0));
        if (!gw || nl_addr_get_len(gw) != 4)
            continue;
        std::uint32_t n;
        std::memcpy(&n, nl_addr_get_binary_addr(gw), sizeof n);
        return std::optional<Ipv4>(Ipv4{ntohl(n)});
    }
    return std::optional<Ipv4>();
}

Result<int> RouteSocket::add_bridge(const std::string& name, const Mac& mac) {
    *kernel_errno_ = 0;
    LinkPtr l{rtnl_link_bridge_alloc()};
    AddrPtr addr{mac_addr(mac)};
    if (!l.p || !addr.p)
        return Error(ENOMEM, name);
    rtnl_link_set_name(l.p, name.c_str());
    rtnl_link_set_addr(l.p, addr.p);
    rtnl_link_set_flags(l.p, IFF_UP);
    if (int err = rtnl_link_add(sock_, l.p, NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return fail(err, name);
    VOLT_TRY_ASSIGN(auto made, link(name));
    if (!made)
        return Error(ENODEV, name + " vanished right after it was created");
    return made->ifindex;
}

Status RouteSocket::add_veth(const VethRequest& r) {
    *kernel_errno_ = 0;
    rtnl_link* l = rtnl_link_veth_alloc();
    if (!l)
        return Error(ENOMEM, r.host_name);
    struct Release {
        rtnl_link* l;
        ~Release() { rtnl_link_veth_release(l); }
    } release{l};
    LinkPtr peer{rtnl_link_veth_get_peer(l)};
    AddrPtr host_mac{mac_addr(r.host_mac)}, peer_mac{mac_addr(r.peer_mac)};
    if (!peer.p || !host_mac.p || !peer_mac.p)
        return Error(ENOMEM, r.host_name);
    rtnl_link_set_name(l, r.host_name.c_str());
    rtnl_link_set_addr(l, host_mac.p);
    if (r.master)
        rtnl_link_set_master(l, r.master);
    rtnl_link_set_flags(l, IFF_UP);
    rtnl_link_set_name(peer.p, r.peer_name.c_str());
    rtnl_link_set_addr(peer.p, peer_mac.p);
    rtnl_link_set_ns_fd(peer.p, r.peer_netns_fd);
    if (r.mtu) {
        rtnl_link_set_mtu(l, r.mtu);
        rtnl_link_set_mtu(peer.p, r.mtu);
    }
    if (int err = rtnl_link_add(sock_, l, NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return fail(err, r.host_name);
    if (r.alias.empty())
        return {};
    // The kernel ignores IFLA_IFALIAS when it creates a link, and a change is addressed by
    // ifindex: two more requests set it.
    VOLT_TRY_ASSIGN(auto made, link(r.host_name));
    if (!made)
        return Error(ENODEV, r.host_name + " vanished right after it was created");
    LinkPtr orig{rtnl_link_alloc()}, change{rtnl_link_alloc()};
    if (!orig.p || !change.p)
        return Error(ENOMEM, r.host_name);
    rtnl_link_set_ifindex(orig.p, made->ifindex);
    rtnl_link_set_ifalias(change.p, r.alias.c_str());
    *kernel_errno_ = 0;
    if (int err = rtnl_link_change(sock_, orig.p, change.p, 0); err < 0)
        return fail(err, r.host_name + ": setting its alias");
    return {};
}

Status RouteSocket::set_up(int ifindex) {
    *kernel_errno_ = 0;
    LinkPtr orig{rtnl_link_alloc()}, change{rtnl_link_alloc()};
    if (!orig.p || !change.p)
        return Error(ENOMEM, "link " + std::to_string(ifindex));
    rtnl_link_set_ifindex(orig.p, ifindex);
    rtnl_link_set_flags(change.p, IFF_UP);
    if (int err = rtnl_link_change(sock_, orig.p, change.p, 0); err < 0)
        return fail(err, "setting link " + std::to_string(ifindex) + " up");
    return {};
}

Status RouteSocket::add_address(int ifindex, Ipv4 address, int prefix) {
    *kernel_errno_ = 0;
    rtnl_addr* a = rtnl_addr_alloc();
    AddrPtr local{ipv4_addr(address, prefix)};
    if (!a || !local.p)
        return Error(ENOMEM, "address");
    struct Put {
        rtnl_addr* a;
        ~Put() { rtnl_addr_put(a); }
    } put{a};
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_local(a, local.p);
    if (int err = rtnl_addr_add(sock_, a, 0); err < 0)
        return fail(err, "adding " + to_string(address) + "/" + std::to_string(prefix));
    return {};
}

Status RouteSocket::add_default_route(int ifindex, Ipv4 gateway) {
    *kernel_errno_ = 0;
    rtnl_route* r = rtnl_route_alloc();
    AddrPtr dst{ipv4_addr(Ipv4{}, 0)}, gw{ipv4_addr(gateway, 32)};
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!r || !dst.p || !gw.p || !nh)
        return Error(ENOMEM, "route");
    struct Put {
        rtnl_route* r;
        ~Put() { rtnl_route_put(r); }
    } put{r};
    rtnl_route_set_family(r, AF_INET);
    rtnl_route_set_dst(r, dst.p);
    rtnl_route_set_table(r, RT_TABLE_MAIN);
    rtnl_route_set_protocol(r, RTPROT_STATIC);
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, gw.p);
    rtnl_route_add_nexthop(r, nh);  // the route owns nh from here
    if (int err = rtnl_route_add(sock_, r, NLM_F_EXCL); err < 0)
        return fail(err, "adding the default route via " + to_string(gateway));
    return {};
}

Result<bool> RouteSocket::delete_link(const std::string& name) {
    *kernel_errno_ = 0;
    LinkPtr l{rtnl_link_alloc()};
    if (!l.p)
        return Error(ENOMEM, name);
    rtnl_link_set_name(l.p, name.c_str());
    if (int err = rtnl_link_delete(sock_, l.p); err < 0) {
        if (*kernel_errno_ == ENODEV || err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
            return false;
        return fail(err, "deleting " + name);
    }
    return true;
}

}  // namespace volt::netlink
