// End to end: booted busybox containers in each network mode. Each case runs in the fresh
// network namespace tests/ns-run gives it, which plays the host.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "netlink/names.hpp"
#include "netlink/nft.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

// One HTTP/1.0 exchange from the test's (the host's) network namespace; the body, or "".
std::string http_get(const std::string& address, std::uint16_t port, const std::string& path) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    UniqueFd owner(s);
    timeval tv{5, 0};
    ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        return "";
    std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    (void)!::write(s, req.data(), req.size());
    std::string got;
    char buf[512];
    ssize_t n;
    while ((n = ::read(s, buf, sizeof buf)) > 0)
        got.append(buf, static_cast<size_t>(n));
    auto body = got.find("\r\n\r\n");
    return body == std::string::npos ? "" : got.substr(body + 4);
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    for (auto l : fs::split(text, '\n'))
        if (!l.empty())
            out.emplace_back(l);
    return out;
}

}  // namespace

TEST_CASE("private: the guest has its address, reaches the gateway, and ports are forwarded",
          "[e2e][network]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("net");
    test::create_and_boot(sb, name, test::busybox_rootfs(),
                          {"--port", "8080:80", "--dns", "192.0.2.53"});
    json info = sb.inspect(name);
    REQUIRE(info.contains("network"));
    const json& net = info["network"];
    CHECK(net["address"] == "10.88.0.2/16");
    CHECK(net["gateway"] == "10.88.0.1");
    CHECK(net["bridge"] == "voltbr0");
    CHECK(net["ports"] == json::array({"tcp:8080:80"}));
    CHECK(info["uptime_seconds"].get<std::int64_t>() >= 0);

    // list shows the run's address, forwards and uptime in its row.
    auto r = sb.volt({"list"});
    REQUIRE(r.code == 0);
    std::string row;
    for (const auto& line : fs::split(r.out, '\n'))
        if (line.starts_with(name + " "))
            row = std::string(line);
    CHECK_THAT(row, Catch::Matches(
                        name + R"( +running +[0-9]+ +10\.88\.0\.2 +tcp:8080:80 +[0-9]+[smhd].*)"));

    r = sb.volt({"exec", name, "--", "ip", "-4", "-o", "addr", "show", "host0"});
    INFO(r.err);
    CHECK_THAT(r.out, Catch::Contains("inet 10.88.0.2/16"));
    r = sb.volt({"exec", name, "--", "ip", "route"});
    CHECK_THAT(r.out, Catch::Contains("default via 10.88.0.1 dev host0"));
    r = sb.volt({"exec", name, "--", "cat", "/etc/resolv.conf"});
    CHECK_THAT(r.out, Catch::Contains("nameserver 192.0.2.53"));

    // The gateway: a listener of the host on the bridge address answers the guest.
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    UniqueFd listener_owner(listener);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(7777);
    ::inet_pton(AF_INET, "10.88.0.1", &a.sin_addr);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    std::thread answer([listener] {
        int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
            (void)!::write(c, "gateway-ok\n", 11);
            ::close(c);
        }
    });
    r = sb.volt({"exec", name, "--", "timeout", "5", "nc", "10.88.0.1", "7777"});
    answer.join();
    CHECK(r.out == "gateway-ok\n");

    // A server in the guest, reached through the forward from the host's loopback.
    r = sb.volt({"exec", name, "--", "sh", "-c", "echo served > /tmp/i; httpd -p 80 -h /tmp"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string body;
    for (int i = 0; i < 50 && body.empty(); ++i) {  // httpd daemonizes: wait until it listens
        body = http_get("127.0.0.1", 8080, "/i");
        if (body.empty())
            ::usleep(100 * 1000);
    }
    CHECK(body == "served\n");
    CHECK(http_get("10.88.0.2", 80, "/i") == "served\n");

    std::string netns = net["netns"];
    r = sb.volt({"stop", name});
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(netns));
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    CHECK(sock->link(netlink::host_ifname(name)).value() == std::nullopt);
    CHECK_FALSE(test::has_nft_rules_of(name));
    CHECK(http_get("127.0.0.1", 8080, "/i").empty());
    // The lease stays with the container (same address on the next boot) until delete.
    CHECK_THAT(fs::read_file(sb.root() + "/network/voltbr0.leases").value(),
               Catch::Contains("10.88.0.2 " + name));
    REQUIRE(sb.volt({"delete", name}).code == 0);
    CHECK_THAT(fs::read_file(sb.root() + "/network/voltbr0.leases").value(),
               !Catch::Contains(name));
}

TEST_CASE("none has only loopback, host shares the host's links", "[e2e][network]") {
    test::require_container_host();
    // A link only the test's ("host") namespace has.
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    REQUIRE(sock->add_bridge("hostmark0", netlink::derive_mac("", "test", "hostmark0")));

    test::Sandbox sb;
    std::string none = sb.unique_name("none");
    test::create_and_boot(sb, none, test::busybox_rootfs(), {"--network", "none"});
    auto r = sb.volt({"exec", none, "--", "ls", "/sys/class/net"});
    CHECK(lines(r.out) == std::vector<std::string>{"lo"});
    CHECK_FALSE(sb.inspect(none).contains("network"));

    std::string host = sb.unique_name("host");
    test::create_and_boot(sb, host, test::busybox_rootfs(), {"--network", "host"});
    r = sb.volt({"exec", host, "--", "ls", "/sys/class/net"});
    CHECK(lines(r.out) == std::vector<std::string>{"hostmark0", "lo"});
}

TEST_CASE("a container whose nspawn was SIGKILLed leaves nothing after delete", "[e2e][network]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("crash");
    test::create_and_boot(sb, name, test::busybox_rootfs(), {"--port", "9090:80"});
    json info = sb.inspect(name);
    std::string netns = info["network"]["netns"];
    test::kill_nspawn(sb, name);
    REQUIRE(sb.volt({"delete", "--force", name}).code == 0);
    CHECK_FALSE(fs::exists(netns));
    CHECK_FALSE(test::has_links_of(name));
    CHECK_FALSE(test::has_nft_rules_of(name));
    CHECK_THAT(fs::read_file(sb.root() + "/network/voltbr0.leases").value(),
               !Catch::Contains(name));
    // volt-run's own directories stay, empty: no namespace, no owner entry of a run.
    CHECK(test::tree(sb.run_dir()) == std::vector<std::string>{".netns", ".netowners"});
}

TEST_CASE(
    "two containers cannot forward one host port: refused at create and at boot, naming "
    "the other (issue 15)",
    "[e2e][network]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string a = sb.unique_name("hm-pa");
    const std::string b = sb.unique_name("hm-pb");
    test::create_and_boot(sb, a, test::busybox_rootfs(), {"--port", "8080:80"});

    // At create, against the other containers' specs: the protocol and the host port clash,
    // whatever the container port.
    auto refused = sb.volt({"create", b, "--image", test::busybox_rootfs(), "--port", "8080:81"});
    CHECK(refused.code == 2);
    CHECK(refused.err ==
          "volt-run: --port tcp:8080:81: host port 8080/tcp is forwarded to "
          "container " +
              a + " already (two containers cannot forward one host port)\n");
    CHECK_FALSE(fs::exists(sb.paths().config_dir(b)));
    // Another protocol on the same port is another DNAT match: allowed.
    auto udp = sb.volt({"create", b, "--image", test::busybox_rootfs(), "--port", "udp:8080:80"});
    INFO(udp.err);
    REQUIRE(udp.code == 0);

    // At boot, against what runs, under the network lock: b's spec claims a's port (a spec
    // written by hand, or two creates that raced), and boot refuses before it builds anything.
    auto text = fs::read_file(sb.paths().spec_file(b));
    REQUIRE(text);
    auto spec = nlohmann::json::parse(*text);
    spec["network"]["ports"][0]["protocol"] = "tcp";
    REQUIRE(fs::write_file_atomic(sb.paths().spec_file(b), spec.dump(), 0600));
    for (bool detach : {false, true}) {
        std::vector<std::string> boot = {"boot", b};
        if (detach)
            boot.insert(boot.begin() + 1, "--detach");
        auto r = sb.volt(boot);
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(r.err.find("--port tcp:8080:80: host port 8080/tcp is forwarded to container " + a +
                         " already (it is running)") != std::string::npos);
        CHECK(sb.inspect(b)["state"] == "stopped");
        CHECK_FALSE(test::has_nft_rules_of(b));
        auto leases = fs::read_file(sb.paths().leases("voltbr0"));
        CHECK((!leases || leases->find(b) == std::string::npos));
    }
    // Once a is stopped the port is free for b.
    REQUIRE(sb.volt({"stop", "--time", "0", a}).code == 0);
    auto booted = sb.volt({"boot", "--detach", "--timeout", "60", b});
    INFO(booted.err);
    CHECK(booted.code == 0);
    CHECK(test::has_nft_rules_of(b));
    CHECK(sb.volt({"stop", "--time", "0", b}).code == 0);
}
