// The network volt-run builds, tested in the throwaway network namespace tests/ns-run gives each
// case (it plays the host): links and addresses read back over netlink, bytes across voltbr0 and
// through port forwards, leases under concurrency, and crashes in the middle of set-up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "base/fs.hpp"
#include "base/proc.hpp"
#include "cgroup/cgroup.hpp"
#include "netlink/ipam.hpp"
#include "netlink/link.hpp"
#include "netlink/names.hpp"
#include "netlink/netns.hpp"
#include "netlink/nft.hpp"
#include "runtime/store/state.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/network.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

struct Host {
    test::TempDir dir{"volt-net"};
    Paths paths;
    std::vector<std::string> built;  // torn down at the end: their namespaces are bind mounts
                                     // in dir, which would otherwise stay behind
    // Stand-ins for the containers' nspawn (see record_state), with their cgroups.
    std::vector<std::pair<pid_t, std::string>> standins;
    Host() {
        paths.root = dir / "root";
        paths.run_dir = dir / "run";
        paths.cgroup_root = test::writable_cgroup2();
    }
    ~Host() {
        for (const auto& name : built)
            (void)teardown_network(paths, name);
        for (const auto& [pid, cgroup] : standins) {
            if (pid > 0) {  // -1: reaped by the test already
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
            (void)cgroup::remove_tree(cgroup);
            ::rmdir(fs::dirname(cgroup).c_str());  // volt.slice, once empty
        }
    }
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    // A container as create leaves it, as far as the network is concerned.
    Spec container(const std::string& name, std::vector<PortForward> ports = {}) const {
        Spec spec;
        spec.name = name;
        spec.network = NetworkMode::private_net;
        spec.ports = std::move(ports);
        REQUIRE(fs::mkdir_p(paths.rootfs(name) + "/etc"));
        REQUIRE(fs::mkdir_p(paths.config_dir(name)));
        REQUIRE(fs::write_file_atomic(paths.spec_file(name), to_json(spec)));
        return spec;
    }

    // Builds the container's network the way boot does: prepare, record state naming this
    // process (alive, so other set-ups do not collect it), build.
    UniqueFd up(const Spec& spec) {
        auto setup = NetworkSetup::prepare(paths, spec);
        REQUIRE(setup);
        record_state(spec.name, setup->plan());
        built.push_back(spec.name);
        auto netns = setup->build();
        INFO((netns ? "" : netns.error().describe()));
        REQUIRE(netns);
        return std::move(netns).value();
    }

    // The state of a running container as read_state and open_nspawn accept it: its nspawn
    // (here a `sleep`) alive in the container's own cgroup, below this process's.
    void record_state(const std::string& name, const NetworkState& plan) {
        test::skip_unless(!paths.cgroup_root.empty(), "a writable cgroup2 hierarchy");
        auto self = cgroup::self_membership();
        REQUIRE(self);
        std::string cg = paths.cgroup_root + (self->unified == "/" ? "" : self->unified) +
                         "/volt.slice/volt-hybrid-" + name;
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        standins.emplace_back(pid, cg);
        auto created = cgroup::Cgroup::create(cg);
        REQUIRE(created);
        REQUIRE(created->attach(pid));
        State state;
        state.nspawn_pid = pid;
        state.nspawn_start_time = proc::stat(pid)->start_time;
        state.cgroup = cg;
        state.network = plan;
        REQUIRE(write_state(paths, name, state));
    }
};

netlink::RouteSocket route_socket() {
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    return std::move(sock).value();
}

sockaddr_in inet(const std::string& address, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    REQUIRE(::inet_pton(AF_INET, address.c_str(), &a.sin_addr) == 1);
    return a;
}

// A TCP echo server inside a network namespace, in a child process.
class EchoServer {
  public:
    EchoServer(int netns_fd, const std::string& address, std::uint16_t port) {
        int ready[2];
        REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            if (::setns(netns_fd, CLONE_NEWNET) < 0)
                ::_exit(10);
            int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int one = 1;
            ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(port);
            ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
            if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s, 8) < 0)
                ::_exit(11);
            (void)!::write(ready[1], "r", 1);
            for (;;) {
                int c = ::accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0)
                    continue;
                char buf[256];
                ssize_t n = ::read(c, buf, sizeof buf);
                if (n > 0) {
                    std::string reply = "echo:" + std::string(buf, static_cast<size_t>(n));
                    (void)!::write(c, reply.data(), reply.size());
                }
                ::close(c);
            }
        }
        ::close(ready[1]);
        char c = 0;
        REQUIRE(::read(ready[0], &c, 1) == 1);
        ::close(ready[0]);
    }
    ~EchoServer() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

  private:
    pid_t pid_ = -1;
};

// Connects from the calling thread's network namespace (or netns_fd's), sends text, returns
// what came back ("" when nothing did).
std::string round_trip(const std::string& address, std::uint16_t port, const std::string& text,
                       int netns_fd = -1) {
    int s;
    {
        std::optional<netlink::NetnsGuard> guard;
        if (netns_fd >= 0) {
            auto g = netlink::NetnsGuard::enter(netns_fd);
            REQUIRE(g);
            guard.emplace(std::move(g).value());
        }
        s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // bound to the namespace now
    }
    REQUIRE(s >= 0);
    UniqueFd owner(s);
    timeval tv{5, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a = inet(address, port);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
        UNSCOPED_INFO("connect " << address << ":" << port << ": " << std::strerror(errno));
        return "";
    }
    REQUIRE(::write(s, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    std::string got;
    char buf[256];
    ssize_t n;
    while ((n = ::read(s, buf, sizeof buf)) > 0)
        got.append(buf, static_cast<size_t>(n));
    return got;
}

bool has_link_of(const std::string& owner) {
    auto links = route_socket().links();
    REQUIRE(links);
    for (const auto& l : *links)
        if (l.alias == std::string(netlink::kLinkAliasPrefix) + owner ||
            l.name == netlink::host_ifname(owner))
            return true;
    return false;
}

bool has_lease(const Host& h, const std::string& name) {
    auto leases = netlink::Leases::load(h.paths.leases("voltbr0"));
    REQUIRE(leases);
    auto holders = leases->holders();
    return std::find(holders.begin(), holders.end(), name) != holders.end();
}

}  // namespace

TEST_CASE("private network: bridge, veth and addresses as specified, and bytes cross voltbr0",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    Spec spec = h.container("c1");
    UniqueFd netns = h.up(spec);

    auto host = route_socket();
    auto bridge = host.link("voltbr0");
    REQUIRE(bridge);
    REQUIRE(*bridge);
    CHECK((*bridge)->kind == "bridge");
    CHECK((*bridge)->up);
    auto bridge_addrs = host.addresses((*bridge)->ifindex);
    REQUIRE(bridge_addrs);
    REQUIRE(bridge_addrs->size() == 1);
    CHECK(netlink::to_string(bridge_addrs->front().address) == "10.88.0.1");
    CHECK(bridge_addrs->front().prefix == 16);
    auto veth = host.link("ve-c1");
    REQUIRE(veth);
    REQUIRE(*veth);
    CHECK((*veth)->kind == "veth");
    CHECK((*veth)->master == (*bridge)->ifindex);
    CHECK((*veth)->alias == "volt:c1");
    CHECK((*veth)->up);
    CHECK(fs::read_file("/proc/sys/net/ipv4/ip_forward").value() == "1\n");

    auto state = read_state(h.paths, "c1");
    REQUIRE(state);
    REQUIRE(*state);
    const NetworkState& plan = (*state)->network;
    CHECK(plan.address == "10.88.0.2");
    CHECK(plan.gateway == "10.88.0.1");
    CHECK(netlink::is_netns(h.paths.netns("c1")));
    {
        auto guard = netlink::NetnsGuard::enter(netns.get());
        REQUIRE(guard);
        auto inside = route_socket();
        auto lo = inside.link("lo");
        REQUIRE((lo && *lo && (*lo)->up));
        auto peer = inside.link("host0");
        REQUIRE(peer);
        REQUIRE(*peer);
        CHECK((*peer)->up);
        CHECK(netlink::to_string((*peer)->mac) == plan.mac);
        CHECK((*peer)->mtu == (*bridge)->mtu);
        auto addrs = inside.addresses((*peer)->ifindex);
        REQUIRE(addrs);
        REQUIRE(addrs->size() == 1);
        CHECK(netlink::to_string(addrs->front().address) == "10.88.0.2");
        CHECK(addrs->front().prefix == 16);
        auto gw = inside.default_gateway();
        REQUIRE(gw);
        REQUIRE(*gw);
        CHECK(netlink::to_string(**gw) == "10.88.0.1");
        // The two sysctls that let an unprivileged container root bind port 80 and ping.
        CHECK(fs::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start").value() == "0\n");
    }
    auto resolv = fs::read_file(h.paths.rootfs("c1") + "/etc/resolv.conf");
    REQUIRE(resolv);
    CHECK_THAT(*resolv, Catch::Contains("nameserver "));

    EchoServer server(netns.get(), "10.88.0.2", 80);
    CHECK(round_trip("10.88.0.2", 80, "across voltbr0") == "echo:across voltbr0");

    REQUIRE(teardown_network(h.paths, "c1"));
    CHECK_FALSE(has_link_of("c1"));
    CHECK_FALSE(fs::exists(h.paths.netns("c1")));
    CHECK_FALSE(test::has_nft_rules_of("c1"));
    CHECK(has_lease(h, "c1"));  // kept until delete: the address is stable across boots
    REQUIRE(release_lease(h.paths, "c1"));
    CHECK_FALSE(has_lease(h, "c1"));
}

TEST_CASE("port forwards reach the container from the bridge side and from host loopback",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    UniqueFd server_ns = h.up(h.container("srv", {{"tcp", 8080, 80}}));
    UniqueFd client_ns = h.up(h.container("client"));
    EchoServer server(server_ns.get(), "0.0.0.0", 80);

    // From the host itself, over loopback and over the bridge's own address.
    CHECK(round_trip("127.0.0.1", 8080, "from loopback") == "echo:from loopback");
    CHECK(round_trip("10.88.0.1", 8080, "from the host") == "echo:from the host");
    // From another namespace on the bridge, to the host port (hairpin through the host).
    CHECK(round_trip("10.88.0.1", 8080, "from a neighbour", client_ns.get()) ==
          "echo:from a neighbour");
    // The port that is not forwarded is not.
    CHECK(round_trip("127.0.0.1", 8081, "nothing").empty());

    // Stopping the container removes its forward and nothing else.
    REQUIRE(teardown_network(h.paths, "srv"));
    CHECK(round_trip("127.0.0.1", 8080, "after stop").empty());
    CHECK(test::has_nft_rules_of("client"));
    CHECK_FALSE(test::has_nft_rules_of("srv"));
}

TEST_CASE("100 leases taken by parallel processes are unique, and release then re-lease works",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    constexpr int kCount = 100;
    std::vector<Spec> specs;
    for (int i = 0; i < kCount; ++i)
        specs.push_back(h.container(std::string("l").append(std::to_string(i))));
    std::vector<pid_t> kids;
    for (const auto& spec : specs) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
            ::_exit(NetworkSetup::prepare(h.paths, spec) ? 0 : 1);
        kids.push_back(pid);
    }
    int failed = 0;
    for (pid_t pid : kids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(failed == 0);
    auto text = fs::read_file(h.paths.leases("voltbr0"));
    REQUIRE(text);
    std::set<std::string> addresses, names;
    std::map<std::string, std::string> address_of;
    for (auto line : fs::split(*text, '\n')) {
        auto w = fs::words(line);
        if (w.size() != 2 || w[0] == "#")
            continue;
        addresses.emplace(w[0]);
        names.emplace(w[1]);
        address_of[std::string(w[1])] = std::string(w[0]);
    }
    CHECK(addresses.size() == kCount);
    CHECK(names.size() == kCount);

    REQUIRE(release_lease(h.paths, "l42"));
    auto again = NetworkSetup::prepare(h.paths, h.container("newcomer"));
    REQUIRE(again);
    CHECK(again->plan().address == address_of["l42"]);  // the lowest free address
}

TEST_CASE("a set-up killed at any step leaves nothing once the next boot or delete ran",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    const std::vector<std::string> steps = {"bridge",    "sysctl",   "netns",      "veth",
                                            "addresses", "nftables", "resolv.conf"};
    for (size_t k = 0; k < steps.size(); ++k) {
        const bool by_delete = k % 2 == 1;
        DYNAMIC_SECTION("killed after " << steps[k] << ", collected by "
                                        << (by_delete ? "delete" : "the next boot")) {
            std::string name = "k" + std::to_string(k);
            Spec spec = h.container(name, {{"tcp", static_cast<std::uint16_t>(9000 + k), 80}});
            pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                auto setup = NetworkSetup::prepare(h.paths, spec);
                if (!setup)
                    ::_exit(1);
                State state;
                state.nspawn_pid = ::getpid();
                state.nspawn_start_time = proc::stat(::getpid())->start_time;
                state.network = setup->plan();
                if (!write_state(h.paths, name, state))
                    ::_exit(2);
                (void)setup->build([&](std::string_view step) {
                    if (step == steps[k])
                        ::raise(SIGKILL);
                });
                ::_exit(3);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            REQUIRE(WIFSIGNALED(status));
            REQUIRE(WTERMSIG(status) == SIGKILL);
            CHECK(has_lease(h, name));
            if (k >= 2)
                CHECK(fs::exists(h.paths.netns(name)));
            if (k >= 3)
                CHECK(has_link_of(name));
            if (k >= 5)
                CHECK(test::has_nft_rules_of(name));

            if (by_delete) {
                REQUIRE(remove(h.paths, name, true));
                CHECK_FALSE(has_lease(h, name));
            } else {
                auto next = NetworkSetup::prepare(h.paths, h.container("next" + name));
                REQUIRE(next);
            }
            CHECK_FALSE(fs::exists(h.paths.netns(name)));
            CHECK_FALSE(has_link_of(name));
            CHECK_FALSE(test::has_nft_rules_of(name));
        }
    }
}

TEST_CASE(
    "a run's network is collected by other set-ups once the process its owner entry names is "
    "gone, and not before",
    "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    Spec spec = h.container("own1", {{"tcp", 9100, 80}});
    int ready[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // A boot that built its network and runs on: no state file, only its owner entry.
        {
            auto setup = NetworkSetup::prepare(h.paths, spec);
            if (!setup || !setup->build())
                ::_exit(1);
        }  // the network lock is released here
        (void)!::write(ready[1], "x", 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    char target[32] = {};
    REQUIRE(::readlink(h.paths.network_owner("own1").c_str(), target, sizeof target - 1) > 0);
    CHECK(std::string(target) == std::to_string(pid));

    // Alive: another container's set-up leaves all of it.
    h.built.push_back("own2");
    REQUIRE(NetworkSetup::prepare(h.paths, h.container("own2")));
    CHECK(has_link_of("own1"));
    CHECK(test::has_nft_rules_of("own1"));
    CHECK(fs::exists(h.paths.netns("own1")));

    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    h.built.push_back("own3");
    REQUIRE(NetworkSetup::prepare(h.paths, h.container("own3")));
    CHECK_FALSE(has_link_of("own1"));
    CHECK_FALSE(test::has_nft_rules_of("own1"));
    CHECK_FALSE(fs::exists(h.paths.netns("own1")));
    CHECK_FALSE(fs::exists(h.paths.network_owner("own1")));
    auto nft = netlink::Nftables::open();
    REQUIRE(nft);
    CHECK_FALSE(nft->has_chain(netlink::nft_chains_of("own1")[2]).value());
    CHECK(has_lease(h, "own1"));  // kept until delete, as after a stop
}

TEST_CASE("a failing step reports the kernel's error for the object, and is undone",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    // Somebody else's link already has the name the container's veth needs.
    auto host = route_socket();
    REQUIRE(host.add_bridge("ve-web1", netlink::derive_mac("", "test", "x")));
    Spec spec = h.container("web1");
    {
        auto setup = NetworkSetup::prepare(h.paths, spec);  // holds the network lock
        REQUIRE(setup);
        auto built = setup->build();
        REQUIRE_FALSE(built);
        CHECK(built.error().describe() == "ve-web1: File exists");
    }
    // The failed build undid what it made: the namespace and the bridge went, the other owner's
    // link stayed, and the lease too.
    CHECK_FALSE(fs::exists(h.paths.netns("web1")));
    CHECK(route_socket().link("voltbr0").value() == std::nullopt);
    CHECK(route_socket().link("ve-web1").value() != std::nullopt);
    CHECK(has_lease(h, "web1"));
    // What boot still does after a failed build finds nothing of web1's, and leaves the link.
    REQUIRE(teardown_network(h.paths, "web1"));
    CHECK(route_socket().link("ve-web1").value() != std::nullopt);
}

TEST_CASE("a build failing before any step undoes exactly the steps that ran",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    const auto& steps = NetworkSetup::step_names();
    for (std::size_t k = 0; k < steps.size(); ++k)
        for (bool neighbour : {false, true}) {
            DYNAMIC_SECTION("failing before "
                            << steps[k]
                            << (neighbour ? ", beside a running container" : ", alone")) {
                Host h;
                // The sections share the case's network namespace: an earlier one's voltbr0
                // (which teardown leaves, as stop does) goes first.
                REQUIRE(route_socket().delete_link("voltbr0"));
                std::optional<UniqueFd> other;  // holds voltbr0, its link and rules
                if (neighbour)
                    other = h.up(h.container("n1", {{"tcp", 9200, 80}}));
                const std::string name = "f" + std::to_string(k);
                Spec spec = h.container(
                    name, {{"tcp", static_cast<std::uint16_t>(9100 + k), 80}, {"udp", 9300, 53}});
                const std::string resolv = h.paths.rootfs(name) + "/etc/resolv.conf";
                {
                    auto setup = NetworkSetup::prepare(h.paths, spec);
                    REQUIRE(setup);
                    std::vector<std::string> ran;
                    auto built =
                        setup->build([&](std::string_view s) { ran.emplace_back(s); },
                                     [&](std::string_view s) -> Status {
                                         if (s == steps[k])
                                             return Error(EIO, "injected before " + std::string(s));
                                         return {};
                                     });
                    REQUIRE_FALSE(built);
                    CHECK_THAT(built.error().describe(),
                               Catch::Contains("injected before " + std::string(steps[k])));
                    CHECK(ran == std::vector<std::string>(steps.begin(), steps.begin() + k));
                }
                // Nothing of the container's is left; the lease stays until delete.
                CHECK_FALSE(fs::exists(h.paths.netns(name)));
                CHECK_FALSE(has_link_of(name));
                CHECK_FALSE(test::has_nft_rules_of(name));
                CHECK_FALSE(fs::exists(resolv));
                CHECK(has_lease(h, name));
                // voltbr0 went only if this build made it; the neighbour keeps all of its own.
                CHECK((route_socket().link("voltbr0").value() != std::nullopt) == neighbour);
                if (neighbour) {
                    CHECK(has_link_of("n1"));
                    CHECK(test::has_nft_rules_of("n1"));
                    CHECK(fs::exists(h.paths.netns("n1")));
                }
                // And the same container builds whole afterwards, with the same lease.
                UniqueFd netns = h.up(spec);
                CHECK(has_link_of(name));
                CHECK(test::has_nft_rules_of(name));
                CHECK(fs::read_file(resolv).ok());
            }
        }
}

TEST_CASE("a bridge of the user's (--network NAME) gives its subnet and gateway",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    auto host = route_socket();
    auto br = host.add_bridge("br-lan", netlink::derive_mac("", "test", "br-lan"));
    REQUIRE(br);
    REQUIRE(host.add_address(*br, *netlink::parse_ipv4("192.168.50.1"), 24));
    Spec spec = h.container("b1");
    spec.network = NetworkMode::bridge;
    spec.bridge = "br-lan";
    UniqueFd netns = h.up(spec);
    auto state = read_state(h.paths, "b1");
    REQUIRE((state && *state));
    CHECK((*state)->network.address == "192.168.50.2");
    CHECK((*state)->network.gateway == "192.168.50.1");
    CHECK(route_socket().link("voltbr0").value() == std::nullopt);  // no bridge of ours made
    EchoServer server(netns.get(), "192.168.50.2", 80);
    CHECK(round_trip("192.168.50.2", 80, "over br-lan") == "echo:over br-lan");

    spec.bridge = "br-missing";
    auto missing = NetworkSetup::prepare(h.paths, spec);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().describe() == "--network br-missing: no such bridge");
}

TEST_CASE("a NAT batch larger than one netlink buffer is applied whole, every rule acknowledged",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    auto nft = netlink::Nftables::open();
    REQUIRE(nft.ok());
    netlink::ContainerNat nat;
    nat.owner = "many";
    nat.address = *netlink::parse_ipv4("10.88.0.9");
    nat.bridge = "voltbr0";
    nat.subnet = *netlink::parse_subnet("10.88.0.0/16");
    // 2 DNAT rules per forward, about 250 bytes each: 600 of them are far past the 64 KiB
    // libmnl's batch buffer held, where the rest was dropped and the batch still "succeeded".
    for (std::uint16_t p = 0; p < 1024; ++p)
        nat.ports.push_back({IPPROTO_TCP, static_cast<std::uint16_t>(20000 + p), 80});
    REQUIRE(nft->apply(nat));
    auto rules = nft->rules();
    REQUIRE(rules.ok());
    std::size_t mine = 0;
    for (const auto& r : *rules)
        mine += r.owner == "many";
    CHECK(mine == 3 + 2 * nat.ports.size());
    // Applied again, the owner's rules are replaced, not doubled.
    REQUIRE(nft->apply(nat));
    rules = nft->rules();
    REQUIRE(rules.ok());
    mine = 0;
    for (const auto& r : *rules)
        mine += r.owner == "many";
    CHECK(mine == 3 + 2 * nat.ports.size());
    REQUIRE(nft->remove("many"));
    CHECK_FALSE(test::has_nft_rules_of("many"));
    // Its chains went with its rules, and a second remove finds nothing to do.
    auto chains = nft->chains();
    REQUIRE(chains.ok());
    for (const auto& c : netlink::nft_chains_of("many"))
        CHECK(std::find(chains->begin(), chains->end(), c) == chains->end());
    CHECK(nft->remove("many"));
}

TEST_CASE("an owner entry that cannot be removed never fails another container's set-up",
          "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    // A directory where a dead run's owner entry would be: unlink fails with EISDIR.
    REQUIRE(fs::mkdir_p(h.paths.network_owner("odd1") + "/x", 0755));
    h.built.push_back("odd2");
    auto setup = NetworkSetup::prepare(h.paths, h.container("odd2"));
    INFO((setup ? "" : setup.error().describe()));
    CHECK(setup);
    REQUIRE(fs::remove_tree(h.paths.network_owner("odd1")));
}

TEST_CASE(
    "a crashed run of an earlier version, which named no owner, has its network collected by "
    "the first set-up after the upgrade, and a live one gets its owner entry",
    "[privileged][network]") {
    test::skip_unless(test::is_root(), "root (CAP_NET_ADMIN in the test's network namespace)");
    Host h;
    Spec spec = h.container("old1", {{"tcp", 9200, 80}});
    Spec kept = h.container("old2");
    // Two runs as an earlier version left them: a state naming nspawn and its cgroup, and its
    // network, but no RUN/.netowners. old2's nspawn (a stand-in) runs on; old1's is killed below.
    for (const Spec* s : {&spec, &kept}) {
        auto setup = NetworkSetup::prepare(h.paths, *s);
        REQUIRE(setup);
        h.record_state(s->name, setup->plan());
        h.built.push_back(s->name);
        REQUIRE(setup->build());
    }
    // A state read_state finds stale (its cgroup is not the container's) names no process: its
    // network is left to its own container, however dead it looks.
    Spec odd = h.container("old3");
    {
        auto setup = NetworkSetup::prepare(h.paths, odd);
        REQUIRE(setup);
        State stale;
        stale.nspawn_pid = 999999999;
        stale.cgroup = "/sys/fs/cgroup/unified/elsewhere";
        stale.network = setup->plan();
        REQUIRE(write_state(h.paths, odd.name, stale));
        h.built.push_back(odd.name);
        REQUIRE(setup->build());
    }
    REQUIRE(fs::remove_tree(h.paths.network_owners_dir()));
    const pid_t dead = h.standins[0].first, alive = h.standins[1].first;
    REQUIRE(::kill(dead, SIGKILL) == 0);
    REQUIRE(::waitpid(dead, nullptr, 0) == dead);
    h.standins[0].first = -1;  // reaped: never signalled again
    REQUIRE(has_link_of("old1"));
    REQUIRE(test::has_nft_rules_of("old1"));

    h.built.push_back("new1");
    auto setup = NetworkSetup::prepare(h.paths, h.container("new1"));
    INFO((setup ? "" : setup.error().describe()));
    REQUIRE(setup);
    CHECK_FALSE(has_link_of("old1"));
    CHECK_FALSE(test::has_nft_rules_of("old1"));
    CHECK_FALSE(fs::exists(h.paths.netns("old1")));
    // The live one keeps all of it, and is now named in RUN/.netowners as this version's runs.
    CHECK(has_link_of("old2"));
    CHECK(fs::exists(h.paths.netns("old2")));
    char target[32] = {};
    REQUIRE(::readlink(h.paths.network_owner("old2").c_str(), target, sizeof target - 1) > 0);
    CHECK(std::string(target) == std::to_string(alive));
    CHECK(has_link_of("old3"));
    CHECK_FALSE(fs::exists(h.paths.network_owner("old3")));
    CHECK(fs::exists(h.paths.network_owner("new1")));
}
