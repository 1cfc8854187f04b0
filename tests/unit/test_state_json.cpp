#include <catch2/catch.hpp>

#include "runtime/store/state.hpp"

using namespace volt::runtime;

namespace {

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

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

std::string state_error(const std::string& text) {
    auto r = state_from_json(text);
    REQUIRE_FALSE(r.ok());
    return r.error().describe();
}

}  // namespace

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

    CHECK(state_error(replaced(without_network(), "\"nspawn_start_time\"", "\"x\"")) ==
          "nspawn_start_time: missing");
    CHECK(state_error(replaced(kStateWithNetwork, "\"prefix\"", "\"x\"")) ==
          "network.prefix: missing");
    CHECK(state_error("{\"nspawn_pid\": 1}") == "nspawn_start_time: missing");
}

TEST_CASE("state.json: a value of the wrong type or out of range is refused, naming the field",
          "[unit]") {
    const std::string& s = kStateWithNetwork;
    CHECK(state_error(replaced(s, "1234", "\"1234\"")) ==
          "nspawn_pid: expected an integer from -2147483648 to 2147483647, not '1234'");
    CHECK(state_error(replaced(s, "1234", "true")) ==
          "nspawn_pid: expected an integer from -2147483648 to 2147483647, not true");
    CHECK(state_error(replaced(s, "1234", "4294967296")) ==
          "nspawn_pid: expected an integer from -2147483648 to 2147483647, not 4294967296");
    CHECK(state_error(replaced(s, "987654321", "-1")) ==
          "nspawn_start_time: expected an integer from 0 to 18446744073709551615, not -1");
    CHECK(state_error(replaced(s, "16", "16.5")) ==
          "network.prefix: expected an integer from -2147483648 to 2147483647, not 16.5");
    CHECK(state_error(replaced(s, "\"under_systemd\": false", "\"under_systemd\": 0")) ==
          "under_systemd: expected true or false, not 0");
    CHECK(state_error(replaced(s, "\"cpuset\"", "5")) ==
          "unenforced_controllers[1]: expected a string, not 5");
    CHECK(state_error(replaced(s, "\"10.88.0.1\"", "null")) ==
          "network.gateway: expected a string, not null");
    CHECK(state_error(replaced(s, "\"2026-11-22T17:00:00Z\"", "[\"\\u001b[2J\"]")) ==
          "started: expected a string, not [\"\\u001b[2J\"]");
    // A bad string is shown printable: no escape sequence reaches the terminal.
    CHECK(state_error(replaced(s, "1234", "\"\\u001b[2J\"")) ==
          "nspawn_pid: expected an integer from -2147483648 to 2147483647, not '\\x1b[2J'");
    CHECK(state_error(R"({"nspawn_pid": 1, "nspawn_start_time": 1, "cgroup": "", "cgroup_v1": "",
                          "under_systemd": false, "started": "", "network": [1]})") ==
          "network: expected an object, not [1]");
    CHECK(state_error("[]") == "expected an object, not []");
    CHECK_THAT(state_error(""), Catch::StartsWith("not JSON: "));
    CHECK_THAT(state_error("{\"cgroup\": \"\xff\"}"), Catch::StartsWith("not JSON: "));
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
