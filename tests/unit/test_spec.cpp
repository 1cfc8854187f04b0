#include <catch2/catch.hpp>

#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"

using namespace volt::runtime;

TEST_CASE("a spec survives a JSON round trip unchanged", "[unit]") {
    Spec s;
    s.name = "web";
    s.image = "/var/lib/volt/images/debian";
    s.created = "2026-11-22T17:00:00Z";
    s.init = InitKind::systemd;
    s.resources.memory_max = 512ull << 20;
    s.resources.cpus_milli = 1500;
    s.resources.cpuset = "0-1";
    s.resources.pids_max = 100;
    s.network = NetworkMode::bridge;
    s.bridge = "br0";
    s.ports = {{"tcp", 8080, 80}, {"udp", 53, 53}};
    s.dns = {"192.0.2.53", "2001:db8::53"};
    s.env = {"A=1", "B=two words"};
    s.volumes = {{"/srv", "/data", true, "directory"}};
    s.seccomp = "/etc/volt/strict.json";
    s.landlock = "none";
    s.private_users = false;
    s.read_only = true;
    s.kernel = "/boot/vmlinuz";
    s.start = true;
    auto back = spec_from_json(to_json(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
}

TEST_CASE("a malformed spec is an error, not a default", "[unit]") {
    CHECK_FALSE(spec_from_json("").ok());
    CHECK_FALSE(spec_from_json("{}").ok());
    CHECK_FALSE(spec_from_json("{\"version\": 2}").ok());
    Spec s;
    s.name = "x";
    std::string text = to_json(s);
    text.replace(text.find("\"private\""), 9, "\"bogus\"");
    auto r = spec_from_json(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().describe().find("bogus") != std::string::npos);
}

TEST_CASE("runtime state round trip", "[unit]") {
    State s;
    s.nspawn_pid = 1234;
    s.nspawn_start_time = 987654321;
    s.cgroup = "/sys/fs/cgroup/volt.slice/volt-hybrid-web";
    s.cgroup_v1 = "/sys/fs/cgroup/systemd/volt.slice/volt-hybrid-web";
    s.started = "2026-11-22T17:00:00Z";
    auto back = state_from_json(to_json(s));
    REQUIRE(back.ok());
    CHECK(back->nspawn_pid == 1234);
    CHECK(back->nspawn_start_time == 987654321);
    CHECK(back->payload_cgroup() == "/sys/fs/cgroup/volt.slice/volt-hybrid-web/payload");
    CHECK(back->cgroup_v1 == s.cgroup_v1);
    CHECK(back->network.empty());
    CHECK_FALSE(state_from_json("{\"nspawn_pid\": 1}").ok());

    s.network = {"voltbr0",           "/run/volt/netns/web", "ve-web", "host0",
                 "0a:1b:2c:3d:4e:5f", "10.88.0.2",           16,       "10.88.0.1",
                 {"1.1.1.1"},         {"tcp:8080:80"}};
    back = state_from_json(to_json(s));
    REQUIRE(back.ok());
    CHECK(back->network == s.network);
}

TEST_CASE("nameservers (--dns) are IPv4 or IPv6 addresses, only for networks volt-run builds",
          "[unit]") {
    CreateRequest r;
    r.name = "web";
    r.dns = {"192.0.2.53", "2001:db8::53"};
    auto spec = build_spec(r);
    REQUIRE(spec.ok());
    CHECK(spec->dns == r.dns);
    r.dns = {"dns.example.org"};
    auto bad = build_spec(r);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().describe() ==
          "--dns: invalid value 'dns.example.org': not an IPv4 or IPv6 address");
    r.dns = {"192.0.2.53"};
    r.network = "host";
    REQUIRE_FALSE(build_spec(r).ok());
}

TEST_CASE("port forwards past what one nftables batch is tested with are refused at create",
          "[unit]") {
    CreateRequest r;
    r.name = "web";
    for (std::size_t i = 0; i < kMaxPortForwards; ++i)
        r.ports.push_back(std::to_string(10000 + i) + ":80");
    REQUIRE(build_spec(r).ok());
    r.ports.push_back("9999:80");
    auto bad = build_spec(r);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().describe() == "--port: 1025 forwards given; a container takes at most 1024");
}
