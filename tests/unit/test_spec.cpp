#include <catch2/catch.hpp>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "support.hpp"

using namespace volt::runtime;
namespace landlock = volt::landlock;
namespace seccomp = volt::seccomp;
using volt::test::message_of;

namespace {

// spec.json as main wrote it before the mapping macros (commit 3c07ff8), byte for byte: every
// field set, and a spec with nothing set.
const std::string kFullSpec = R"({
  "created": "2026-11-22T17:00:00Z",
  "devices": [
    {
      "access": "rw",
      "path": "/dev/null"
    }
  ],
  "env": [
    "A=1",
    "B=two words"
  ],
  "image": "/var/lib/volt/images/debian",
  "init": "systemd",
  "kernel": "/boot/vmlinuz",
  "landlock": "none",
  "landlock_mode": "require",
  "missing_controllers": "ignore",
  "name": "web",
  "network": {
    "bridge": "br0",
    "dns": [
      "192.0.2.53",
      "2001:db8::53"
    ],
    "mode": "bridge",
    "ports": [
      {
        "container": 80,
        "host": 8080,
        "protocol": "tcp"
      },
      {
        "container": 53,
        "host": 53,
        "protocol": "udp"
      }
    ]
  },
  "private_users": false,
  "read_only": true,
  "resources": {
    "cpu_weight": null,
    "cpus_milli": 1500,
    "cpuset": "0-1",
    "io_weight": 200,
    "memory_high": 268435456,
    "memory_max": 536870912,
    "memory_swap_max": null,
    "pids_max": 100
  },
  "seccomp": "/etc/volt/strict.json",
  "seccomp_unknown_syscalls": "warn",
  "start": true,
  "version": 1,
  "volumes": [
    {
      "container": "/data",
      "host": "/srv",
      "idmap": false,
      "kind": "directory",
      "read_only": true
    },
    {
      "container": "/etc/hosts",
      "host": "/etc/hosts",
      "idmap": true,
      "kind": "",
      "read_only": false
    }
  ]
}
)";
const std::string kDefaultSpec = R"({
  "created": "",
  "devices": [],
  "env": [],
  "image": "",
  "init": "other",
  "kernel": "",
  "landlock": "server",
  "landlock_mode": "best-effort",
  "missing_controllers": "refuse",
  "name": "",
  "network": {
    "bridge": "",
    "dns": [],
    "mode": "private",
    "ports": []
  },
  "private_users": true,
  "read_only": false,
  "resources": {
    "cpu_weight": null,
    "cpus_milli": null,
    "cpuset": null,
    "io_weight": null,
    "memory_high": null,
    "memory_max": null,
    "memory_swap_max": null,
    "pids_max": null
  },
  "seccomp": "default",
  "seccomp_unknown_syscalls": "error",
  "start": false,
  "version": 1,
  "volumes": []
}
)";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

// An edit of a document (the first `from` becomes `to`) and the line its reader must refuse it
// with.
struct Refusal {
    std::string from, to, message;
};

template <class Parse>
void check_refusals(Parse parse, const std::string& document, const std::vector<Refusal>& cases) {
    for (const auto& c : cases) {
        INFO("'" << c.from << "' replaced by '" << c.to << "'");
        CHECK(message_of(parse(replaced(document, c.from, c.to))) == c.message);
    }
}

// state.json as main wrote it before the mapping macros (commit 3c07ff8), byte for byte.
const std::string kStateWithNetwork = R"({
  "cgroup": "/sys/fs/cgroup/volt.slice/volt-hybrid-web",
  "cgroup_devices": "/sys/fs/cgroup/devices/volt.slice/volt-hybrid-web",
  "cgroup_v1": "/sys/fs/cgroup/systemd/volt.slice/volt-hybrid-web",
  "network": {
    "address": "10.88.0.2",
    "bridge": "voltbr0",
    "container_ifname": "host0",
    "dns": [
      "1.1.1.1"
    ],
    "gateway": "10.88.0.1",
    "host_ifname": "ve-web",
    "mac": "0a:1b:2c:3d:4e:5f",
    "netns": "/run/volt/netns/web",
    "ports": [
      "tcp:8080:80"
    ],
    "prefix": 16
  },
  "nspawn_pid": 1234,
  "nspawn_start_time": 987654321,
  "started": "2026-11-22T17:00:00Z",
  "under_systemd": false,
  "unenforced_controllers": [
    "io",
    "cpuset"
  ]
}
)";

// The same without a network (--network host or none): the key is left out.
std::string without_network() {
    std::string s = kStateWithNetwork;
    auto from = s.find("  \"network\"");
    auto to = s.find("  \"nspawn_pid\"");
    return s.erase(from, to - from);
}

}  // namespace

TEST_CASE("spec.json as main wrote it reads back field by field and is written back the same",
          "[unit]") {
    auto s = spec_from_json(kFullSpec);
    REQUIRE(s.ok());
    CHECK(s->name == "web");
    CHECK(s->image == "/var/lib/volt/images/debian");
    CHECK(s->created == "2026-11-22T17:00:00Z");
    CHECK(s->init == InitKind::systemd);
    Resources r;
    r.memory_max = 512ull << 20;
    r.memory_high = 256ull << 20;
    r.cpus_milli = 1500;
    r.cpuset = "0-1";
    r.io_weight = 200;
    r.pids_max = 100;
    CHECK(s->resources == r);
    CHECK(s->network == NetworkMode::bridge);
    CHECK(s->bridge == "br0");
    CHECK(s->ports == std::vector<PortForward>{{"tcp", 8080, 80}, {"udp", 53, 53}});
    CHECK(s->dns == std::vector<std::string>{"192.0.2.53", "2001:db8::53"});
    CHECK(s->env == std::vector<std::string>{"A=1", "B=two words"});
    CHECK(s->volumes == std::vector<Volume>{{"/srv", "/data", true, "directory", false},
                                            {"/etc/hosts", "/etc/hosts", false, "", true}});
    CHECK(s->devices == std::vector<Device>{{"/dev/null", "rw"}});
    CHECK(s->seccomp == "/etc/volt/strict.json");
    CHECK(s->landlock == "none");
    CHECK(s->landlock_mode == LandlockMode::require);
    CHECK(s->seccomp_unknown_warn);
    CHECK(s->missing_controllers_ok);
    CHECK_FALSE(s->private_users);
    CHECK(s->read_only);
    CHECK(s->kernel == "/boot/vmlinuz");
    CHECK(s->start);
    // Written before --rootfs existed: a copy, which is what it is written back as.
    CHECK(s->rootfs == RootfsMode::copy);
    CHECK(to_json(*s) ==
          replaced(kFullSpec, "  \"seccomp\":", "  \"rootfs\": \"copy\",\n  \"seccomp\":"));
    // A volume of a spec written before idmap existed was bound without it, and stays so.
    auto older = spec_from_json(replaced(kFullSpec, "      \"idmap\": true,\n", ""));
    REQUIRE(older.ok());
    CHECK_FALSE(older->volumes[1].idmap);

    auto d = spec_from_json(kDefaultSpec);
    REQUIRE(d.ok());
    CHECK(*d == Spec{});
    CHECK(to_json(Spec{}) ==
          replaced(kDefaultSpec, "  \"seccomp\":", "  \"rootfs\": \"copy\",\n  \"seccomp\":"));
}

TEST_CASE(
    "spec.json: the rootfs mode is stored as a word and read back and an unknown one is refused",
    "[unit]") {
    Spec s;
    s.name = "web";
    s.rootfs = RootfsMode::overlay;
    const std::string text = to_json(s);
    CHECK(text.find("\"rootfs\": \"overlay\"") != std::string::npos);
    auto back = spec_from_json(text);
    REQUIRE(back.ok());
    CHECK(back->rootfs == RootfsMode::overlay);
    CHECK(*back == s);
    auto bad = spec_from_json(replaced(text, "\"overlay\"", "\"bind\""));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().describe().find("rootfs") != std::string::npos);
    CHECK(bad.error().describe().find("bind") != std::string::npos);
    CHECK(std::string(to_string(RootfsMode::overlay)) == "overlay");
}

TEST_CASE(
    "build_spec: --rootfs is copy by default and overlay when asked and anything else is refused",
    "[unit]") {
    CreateRequest r;
    r.name = "web";
    auto d = build_spec(r);
    REQUIRE(d.ok());
    CHECK(d->rootfs == RootfsMode::copy);
    r.rootfs = "overlay";
    auto o = build_spec(r);
    REQUIRE(o.ok());
    CHECK(o->rootfs == RootfsMode::overlay);
    for (const char* bad : {"", "Overlay", "bind", "copy,overlay"}) {
        r.rootfs = bad;
        auto e = build_spec(r);
        REQUIRE_FALSE(e.ok());
        CHECK(e.error().describe() ==
              "--rootfs: invalid value '" + std::string(bad) + "': expected copy or overlay");
    }
}

TEST_CASE("spec.json: keys added later keep their defaults when absent, the others are required",
          "[unit]") {
    // Before --device, --landlock-mode, --seccomp-unknown, --missing-controllers, --dns and the
    // volume's kind; with a limit left out instead of null.
    std::string old = kFullSpec;
    for (const char* key : {"devices", "landlock_mode", "seccomp_unknown_syscalls",
                            "missing_controllers", "dns", "kind", "memory_swap_max"}) {
        auto j = nlohmann::json::parse(old);
        std::function<void(nlohmann::json&)> erase = [&](nlohmann::json& v) {
            if (v.is_object())
                v.erase(key);
            for (auto& child : v)
                if (child.is_structured())
                    erase(child);
        };
        erase(j);
        old = j.dump(2);
    }
    CHECK(old.find("\"kind\"") == std::string::npos);
    auto s = spec_from_json(old);
    REQUIRE(s.ok());
    CHECK(s->devices.empty());
    CHECK(s->landlock_mode == LandlockMode::best_effort);
    CHECK_FALSE(s->seccomp_unknown_warn);
    CHECK_FALSE(s->missing_controllers_ok);
    CHECK(s->dns.empty());
    CHECK(s->volumes.at(0).kind.empty());
    CHECK(s->resources.memory_max == 512ull << 20);
    CHECK_FALSE(s->resources.memory_swap_max);
    CHECK(s->name == "web");

    check_refusals(spec_from_json, kFullSpec,
                   {{"\"name\"", "\"x\"", "name: missing"},
                    {"\"seccomp\":", "\"x\":", "seccomp: missing"},
                    {"\"mode\"", "\"x\"", "network.mode: missing"},
                    {"\"protocol\": \"udp\"", "\"x\": 1", "network.ports[1].protocol: missing"},
                    {"\"access\"", "\"x\"", "devices[0].access: missing"}});
    CHECK(message_of(spec_from_json("{}")) == "version: missing");
}

TEST_CASE("spec.json: an unknown enum value is refused, naming the field, never read as another",
          "[unit]") {
    // nlohmann's NLOHMANN_JSON_SERIALIZE_ENUM would read each of these as the first value.
    CHECK(message_of(spec_from_json(replaced(kDefaultSpec, "\"private\"", "\"bogus\""))) ==
          "network.mode: unknown value 'bogus'; expected one of private, host, none, bridge");
    check_refusals(
        spec_from_json, kFullSpec,
        {{"\"systemd\"", "\"upstart\"",
          "init: unknown value 'upstart'; expected one of systemd, busybox, other"},
         {"\"require\"", "\"Require\"",
          "landlock_mode: unknown value 'Require'; expected one of best-effort, require"},
         {"\"warn\"", "\"yes\"",
          "seccomp_unknown_syscalls: unknown value 'yes'; expected one of error, warn"},
         {"\"ignore\"", "\"\\u001b[2J\"",
          "missing_controllers: unknown value '\\x1b[2J'; expected one of refuse, ignore"},
         {"\"bridge\",", "2,",
          "network.mode: expected one of private, host, none, bridge, not 2"}});
}

TEST_CASE("spec.json: a value of the wrong type or out of range is refused, naming the field",
          "[unit]") {
    check_refusals(
        spec_from_json, kFullSpec,
        {{"8080", "70000", "network.ports[0].host: expected an integer from 0 to 65535, not 70000"},
         {"\"container\": 53", "\"container\": -1",
          "network.ports[1].container: expected an integer from 0 to 65535, not -1"},
         {"536870912", "\"512M\"",
          "resources.memory_max: expected an integer from 0 to 18446744073709551615 or null, "
          "not '512M'"},
         {"1500", "1.5",
          "resources.cpus_milli: expected an integer from 0 to 4294967295 or null, not 1.5"},
         {"\"private_users\": false", "\"private_users\": 0",
          "private_users: expected true or false, not 0"},
         {"\"B=two words\"", "null", "env[1]: expected a string, not null"},
         {"\"read_only\": true\n    }", "\"read_only\": \"true\"\n    }",
          "volumes[0].read_only: expected true or false, not 'true'"},
         {"\"version\": 1", "\"version\": \"1\"",
          "version: expected an integer from -2147483648 to 2147483647, not '1'"},
         {"\"version\": 1", "\"version\": 2",
          "version: unsupported value 2; this volt-run reads version 1"}});
    CHECK(message_of(spec_from_json(replaced(kFullSpec, "\"resources\": {", "\"resources\": [{")
                                        .insert(kFullSpec.find("  \"seccomp\":") - 1, "]"))) ==
          "resources: expected an object, not "
          "[{\"cpu_weight\":null,\"cpus_milli\":1500,\"cpuset\":\"0-1\",\"io_...");
    CHECK(message_of(spec_from_json("[1]")) == "expected an object, not [1]");
    CHECK_THAT(message_of(spec_from_json("")), Catch::StartsWith("not JSON: "));
    CHECK_THAT(message_of(spec_from_json("{\"name\": \"\xff\"}")), Catch::StartsWith("not JSON: "));
}

TEST_CASE("a spec with bytes that are not UTF-8 is written, not thrown", "[unit]") {
    // build_spec refuses such bytes at create; a Spec made elsewhere must not abort the writer.
    Spec s;
    s.name = "web";
    s.env = {"A=\xff"};
    std::string text;
    REQUIRE_NOTHROW(text = to_json(s));
    auto back = spec_from_json(text);
    REQUIRE(back.ok());
    CHECK(back->env == std::vector<std::string>{"A=\xef\xbf\xbd"});
}

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
    CHECK_FALSE(back->exec.recorded());

    // What boot records for exec: the parsed Landlock plan and the seccomp digest, whole.
    auto policy = landlock::parse_policy(landlock::builtin_policy_text("server"), "server");
    REQUIRE(policy.ok());
    s.exec.landlock_policy = "server";
    s.exec.landlock = landlock::plan(*policy, landlock::Part::exec, 7);
    s.exec.seccomp_profile = "default";
    s.exec.seccomp_digest = seccomp::profile_digest(seccomp::builtin_profile_text("default"));
    REQUIRE_FALSE(s.exec.landlock.paths.empty());
    back = state_from_json(to_json(s));
    REQUIRE(back.ok());
    CHECK(back->exec == s.exec);
    CHECK(back->exec.landlock.paths == s.exec.landlock.paths);
    CHECK(back->exec.landlock.describe() == s.exec.landlock.describe());
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

TEST_CASE("state.json as main wrote it reads back field by field and is written back the same",
          "[unit]") {
    auto s = state_from_json(kStateWithNetwork);
    REQUIRE(s.ok());
    CHECK(s->nspawn_pid == 1234);
    CHECK(s->nspawn_start_time == 987654321);
    CHECK(s->cgroup == "/sys/fs/cgroup/volt.slice/volt-hybrid-web");
    CHECK(s->cgroup_v1 == "/sys/fs/cgroup/systemd/volt.slice/volt-hybrid-web");
    CHECK(s->cgroup_devices == "/sys/fs/cgroup/devices/volt.slice/volt-hybrid-web");
    CHECK_FALSE(s->under_systemd);
    CHECK(s->started == "2026-11-22T17:00:00Z");
    CHECK(s->unenforced_controllers == std::vector<std::string>{"io", "cpuset"});
    CHECK(s->network == NetworkState{"voltbr0",
                                     "/run/volt/netns/web",
                                     "ve-web",
                                     "host0",
                                     "0a:1b:2c:3d:4e:5f",
                                     "10.88.0.2",
                                     16,
                                     "10.88.0.1",
                                     {"1.1.1.1"},
                                     {"tcp:8080:80"}});
    CHECK(s->cgroup_relative.empty());  // set by read_state, never stored
    CHECK(to_json(*s) == kStateWithNetwork);

    auto bare = state_from_json(without_network());
    REQUIRE(bare.ok());
    CHECK(bare->network.empty());
    CHECK(to_json(*bare) == without_network());
}

TEST_CASE("state.json: keys added later keep their defaults when absent, the others are required",
          "[unit]") {
    // Written before the v1 devices hierarchy and --missing-controllers ignore.
    std::string old = replaced(without_network(),
                               "  \"cgroup_devices\": "
                               "\"/sys/fs/cgroup/devices/volt.slice/volt-hybrid-web\",\n",
                               "");
    old = replaced(old, ",\n  \"unenforced_controllers\": [\n    \"io\",\n    \"cpuset\"\n  ]", "");
    auto s = state_from_json(old);
    REQUIRE(s.ok());
    CHECK(s->cgroup_devices.empty());
    CHECK(s->unenforced_controllers.empty());
    CHECK(s->nspawn_pid == 1234);

    CHECK(message_of(state_from_json(replaced(without_network(), "\"nspawn_start_time\"",
                                              "\"x\""))) == "nspawn_start_time: missing");
    CHECK(message_of(state_from_json(replaced(kStateWithNetwork, "\"prefix\"", "\"x\""))) ==
          "network.prefix: missing");
    CHECK(message_of(state_from_json("{\"nspawn_pid\": 1}")) == "nspawn_start_time: missing");
}

TEST_CASE("state.json: a value of the wrong type or out of range is refused, naming the field",
          "[unit]") {
    const std::string pid = "an integer from -2147483648 to 2147483647";
    check_refusals(
        state_from_json, kStateWithNetwork,
        {{"1234", "\"1234\"", "nspawn_pid: expected " + pid + ", not '1234'"},
         {"1234", "true", "nspawn_pid: expected " + pid + ", not true"},
         {"1234", "4294967296", "nspawn_pid: expected " + pid + ", not 4294967296"},
         {"987654321", "-1",
          "nspawn_start_time: expected an integer from 0 to 18446744073709551615, not -1"},
         {"16", "16.5", "network.prefix: expected " + pid + ", not 16.5"},
         {"\"under_systemd\": false", "\"under_systemd\": 0",
          "under_systemd: expected true or false, not 0"},
         {"\"cpuset\"", "5", "unenforced_controllers[1]: expected a string, not 5"},
         {"\"10.88.0.1\"", "null", "network.gateway: expected a string, not null"},
         {"\"2026-11-22T17:00:00Z\"", "[\"\\u001b[2J\"]",
          "started: expected a string, not [\"\\u001b[2J\"]"},
         // A bad string is shown printable: no escape sequence reaches the terminal.
         {"1234", "\"\\u001b[2J\"", "nspawn_pid: expected " + pid + ", not '\\x1b[2J'"}});
    CHECK(message_of(state_from_json(
              R"({"nspawn_pid": 1, "nspawn_start_time": 1, "cgroup": "", "cgroup_v1": "",
                          "under_systemd": false, "started": "", "network": [1]})")) ==
          "network: expected an object, not [1]");
    CHECK(message_of(state_from_json("[]")) == "expected an object, not []");
    CHECK_THAT(message_of(state_from_json("")), Catch::StartsWith("not JSON: "));
    CHECK_THAT(message_of(state_from_json("{\"cgroup\": \"\xff\"}")),
               Catch::StartsWith("not JSON: "));
}

TEST_CASE("a state with bytes that are not UTF-8 is written, not thrown", "[unit]") {
    State s;
    s.cgroup = "/sys/fs/cgroup/volt.slice/\xff";
    std::string text;
    REQUIRE_NOTHROW(text = to_json(s));
    auto back = state_from_json(text);
    REQUIRE(back.ok());
    CHECK(back->cgroup == "/sys/fs/cgroup/volt.slice/\xef\xbf\xbd");
}

TEST_CASE("two forwards clash on protocol and host port, whatever the container port (issue 15)",
          "[unit]") {
    const std::vector<PortForward> theirs = {{"tcp", 8080, 80}, {"udp", 53, 53}};
    CHECK(clashing_port({{"tcp", 8080, 9999}}, theirs) == PortForward{"tcp", 8080, 9999});
    CHECK(clashing_port({{"tcp", 8081, 80}, {"udp", 53, 5353}}, theirs) ==
          PortForward{"udp", 53, 5353});
    CHECK_FALSE(clashing_port({{"udp", 8080, 80}, {"tcp", 53, 53}}, theirs));
    CHECK_FALSE(clashing_port({}, theirs));
    CHECK(port_claimed({"tcp", 8080, 80}, "web", "it is running").describe() ==
          "--port tcp:8080:80: host port 8080/tcp is forwarded to container web already (it is "
          "running)");
}

TEST_CASE("all --env entries of a container together are capped (issue 15)", "[unit]") {
    CreateRequest r;
    r.name = "web";
    const std::string entry = "E=" + std::string(64 << 10, 'x');
    r.env = {entry, entry, entry};
    REQUIRE(build_spec(r).ok());
    r.env.push_back(entry);
    CHECK(message_of(build_spec(r)) ==
          "--env: 4 entries hold more than 262144 bytes together, the most a container takes");
}
