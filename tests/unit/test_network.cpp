// Pure parts of the network: subnets, derived names and MACs, leases, nameservers.
#include <catch2/catch.hpp>

#include <set>

#include "base/fs.hpp"
#include "netlink/address.hpp"
#include "netlink/ipam.hpp"
#include "netlink/names.hpp"
#include "runtime/verbs/network.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::netlink;

TEST_CASE("subnets parse, and bad ones are refused naming the value", "[unit]") {
    auto s = parse_subnet("10.88.0.0/16");
    REQUIRE(s);
    CHECK(to_string(*s) == "10.88.0.0/16");
    CHECK(to_string(s->gateway()) == "10.88.0.1");
    CHECK(to_string(s->first_lease()) == "10.88.0.2");
    CHECK(to_string(s->last_lease()) == "10.88.255.254");
    CHECK(s->contains(*parse_ipv4("10.88.200.3")));
    CHECK_FALSE(s->contains(*parse_ipv4("10.89.0.1")));
    for (const char* bad : {"10.88.0.0", "10.88.0.1/16", "10.88.0.0/31", "10.88.0.0/0",
                            "10.88.0/16", "10.88.0.0/16x", "fd00::/64"}) {
        auto r = parse_subnet(bad);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().describe(), Catch::Contains(std::string("'") + bad + "'"));
    }
    CHECK_THAT(parse_subnet("10.88.0.1/16").error().describe(),
               Catch::Contains("did you mean 10.88.0.0/16"));
}

TEST_CASE("host interface names fit IFNAMSIZ and are deterministic", "[unit]") {
    CHECK(host_ifname("web1") == "ve-web1");
    CHECK(host_ifname("twelve-chars") == "ve-twelve-chars");
    std::string long_a = host_ifname("a-very-long-container-name-1");
    std::string long_b = host_ifname("a-very-long-container-name-2");
    CHECK(long_a.size() == 15);
    CHECK(long_a.rfind("ve-a-ver+", 0) == 0);
    CHECK(long_a != long_b);
    CHECK(long_a == host_ifname("a-very-long-container-name-1"));
    // 64 bytes, the longest name create accepts.
    CHECK(host_ifname(std::string(64, 'x')).size() == 15);
}

TEST_CASE("MAC addresses are locally administered unicast, stable, per machine and name",
          "[unit]") {
    Mac a = derive_mac("machine-1", "container", "web1");
    CHECK((a[0] & 0x02) == 0x02);  // locally administered
    CHECK((a[0] & 0x01) == 0);     // unicast
    CHECK(a == derive_mac("machine-1", "container", "web1"));
    CHECK(a != derive_mac("machine-2", "container", "web1"));
    CHECK(a != derive_mac("machine-1", "host", "web1"));
    CHECK(a != derive_mac("machine-1", "container", "web2"));
    CHECK(to_string(Mac{0x0a, 0, 0xff, 1, 2, 3}) == "0a:00:ff:01:02:03");
}

TEST_CASE("leases: stable per name, lowest free first, released and reused", "[unit]") {
    test::TempDir dir;
    std::string path = dir / "voltbr0.leases";
    auto subnet = *parse_subnet("10.88.0.0/16");
    {
        auto leases = Leases::load(path);
        REQUIRE(leases);
        REQUIRE(leases->use_subnet(subnet));
        CHECK(to_string(*leases->lease("a")) == "10.88.0.2");
        CHECK(to_string(*leases->lease("b")) == "10.88.0.3");
        CHECK(to_string(*leases->lease("a")) == "10.88.0.2");
        REQUIRE(leases->save());
    }
    auto leases = Leases::load(path);
    REQUIRE(leases);
    CHECK(leases->holders() == std::vector<std::string>{"a", "b"});
    CHECK(leases->release("a"));
    CHECK_FALSE(leases->release("a"));
    CHECK(to_string(*leases->lease("c")) == "10.88.0.2");
    // A bridge whose own address is not the first one: that address is never leased.
    CHECK(to_string(*leases->lease("d", *parse_ipv4("10.88.0.4"))) == "10.88.0.5");
    REQUIRE(leases->save());
    auto other = Leases::load(path);
    REQUIRE(other);
    auto changed = other->use_subnet(*parse_subnet("10.99.0.0/16"));
    REQUIRE_FALSE(changed);
    CHECK_THAT(changed.error().describe(), Catch::Contains("holds leases in subnet 10.88.0.0/16"));
}

TEST_CASE("leases run out with a clear error", "[unit]") {
    test::TempDir dir;
    auto leases = Leases::load(dir / "small.leases");
    REQUIRE(leases);
    REQUIRE(leases->use_subnet(*parse_subnet("192.168.7.0/30")));  // .1 gateway, .2 the only host
    CHECK(to_string(*leases->lease("a")) == "192.168.7.2");
    auto none = leases->lease("b");
    REQUIRE_FALSE(none);
    CHECK(none.error().code() == ENOSPC);
    CHECK_THAT(none.error().describe(), Catch::Contains("no free address left in 192.168.7.0/30"));
}

TEST_CASE("a malformed lease file is an error naming the line", "[unit]") {
    test::TempDir dir;
    REQUIRE(fs::write_file_atomic(dir / "x.leases",
                                  "# volt-run leases, subnet 10.88.0.0/16\n10.88.0.2\n"));
    auto leases = Leases::load(dir / "x.leases");
    REQUIRE_FALSE(leases);
    CHECK_THAT(leases.error().describe(), Catch::Contains("x.leases:2: malformed lease"));
}

TEST_CASE("nameservers: the spec's, else the host's non-loopback ones, else 1.1.1.1", "[unit]") {
    runtime::Spec spec;
    const char* host =
        "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
        "nameserver ::1\nnameserver 2001:db8::53\nsearch example.org\n";
    CHECK(runtime::nameservers(spec, host) ==
          std::vector<std::string>{"192.0.2.53", "2001:db8::53"});
    CHECK(runtime::nameservers(spec, "nameserver 127.0.0.53\n") ==
          std::vector<std::string>{"1.1.1.1", "1.0.0.1"});
    CHECK(runtime::nameservers(spec, "") == std::vector<std::string>{"1.1.1.1", "1.0.0.1"});
    spec.dns = {"9.9.9.9"};
    CHECK(runtime::nameservers(spec, host) == std::vector<std::string>{"9.9.9.9"});
}
