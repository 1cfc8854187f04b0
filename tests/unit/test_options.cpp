#include <catch2/catch.hpp>
#include <string>

#include "runtime/plan/options.hpp"
#include "runtime/plan/spec.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

using test::message_of;

CreateRequest request(std::string name = "web") {
    CreateRequest r;
    r.name = std::move(name);
    r.image = "/unused";
    return r;
}

}  // namespace

TEST_CASE("container names", "[unit]") {
    for (const std::string& ok :
         std::vector<std::string>{"web", "a", "web-1.prod_2", "A9", std::string(64, 'x')})
        CHECK(validate_name(ok).ok());
    for (const std::string& bad : std::vector<std::string>{"", "../x", "a/b", ".hidden", "-flag",
                                                           "sp ace", "é", std::string(65, 'x')}) {
        auto st = validate_name(bad);
        CHECK_FALSE(st.ok());
        CHECK(st.error().kind() == ErrorKind::usage);
        CHECK(st.error().describe().find("'" + bad + "'") != std::string::npos);
    }
}

TEST_CASE("new container names are machine names systemd-nspawn takes", "[unit]") {
    // Checked against systemd-nspawn 252 -M NAME: these it takes...
    for (const std::string& ok : std::vector<std::string>{"web", "a-b", "a--b", "A.b", "1web",
                                                          "a.b.c", std::string(64, 'x')})
        CHECK(validate_new_name(ok).ok());
    // ... and these it refuses ("Invalid machine name"): create did take them, and boot failed
    // late, after it had built cgroups and the network.
    for (const std::string& bad :
         std::vector<std::string>{"my_web", "web-", "web.", "a..b", "a-.b", "a.-b", "-web", ".web",
                                  std::string(63, 'a') + ".b", "web-1.prod_2"}) {
        auto st = validate_new_name(bad);
        INFO(bad);
        CHECK_FALSE(st.ok());
        CHECK(st.error().kind() == ErrorKind::usage);
        CHECK(st.error().describe().find("'" + bad + "'") != std::string::npos);
    }
    // Existing containers keep names every other command takes.
    CHECK(validate_name("my_web").ok());
}

TEST_CASE("a name or a size unit with a newline is refused on one line (found by fuzz_options)",
          "[unit]") {
    CHECK(message_of(validate_name("a\nb")) ==
          "invalid container name 'a\\nb': only letters, digits, '-', '_' and '.' are allowed");
    CHECK(message_of(validate_new_name("\xc3\n")).find('\n') == std::string::npos);
    CHECK(message_of(parse_size("--memory", "1\nG")) ==
          "--memory: invalid value '1\\nG': unknown unit '\\nG' (use K, M, G or T)");
}

TEST_CASE("sizes", "[unit]") {
    CHECK(*parse_size("--memory", "512M") == 512ull << 20);
    CHECK(*parse_size("--memory", "2G") == 2ull << 30);
    CHECK(*parse_size("--memory", "2gib") == 2ull << 30);
    CHECK(*parse_size("--memory", "1T") == 1ull << 40);
    CHECK(*parse_size("--memory", "4096") == 4096);
    CHECK(*parse_size("--memory", "64k") == 65536);
    CHECK(message_of(parse_size("--memory", "12Q")) ==
          "--memory: invalid value '12Q': unknown unit 'Q' (use K, M, G or T)");
    CHECK(message_of(parse_size("--memory", "-5M")).find("'-5M'") != std::string::npos);
    CHECK_FALSE(parse_size("--memory", "0").ok());
    CHECK_FALSE(parse_size("--memory", "").ok());
    CHECK_FALSE(parse_size("--memory", "M").ok());
    CHECK_FALSE(parse_size("--memory", "1.5G").ok());
    CHECK_FALSE(parse_size("--memory", "99999999999999999999").ok());
    CHECK_FALSE(parse_size("--memory", "17179869184T").ok());  // overflows 64 bits
}

TEST_CASE("cpus, cpusets and weights", "[unit]") {
    CHECK(*parse_cpus("--cpus", "1.5") == 1500);
    CHECK(*parse_cpus("--cpus", "2") == 2000);
    CHECK(*parse_cpus("--cpus", "0.25") == 250);
    CHECK(*parse_cpus("--cpus", ".5") == 500);
    CHECK_FALSE(parse_cpus("--cpus", "0").ok());
    CHECK_FALSE(parse_cpus("--cpus", "0.001").ok());
    CHECK_FALSE(parse_cpus("--cpus", "-1").ok());
    CHECK_FALSE(parse_cpus("--cpus", "1.2345").ok());
    CHECK_FALSE(parse_cpus("--cpus", "two").ok());
    CHECK_FALSE(parse_cpus("--cpus", "1.").ok());

    CHECK(*parse_cpuset("--cpuset", "0-3,6") == "0-3,6");
    CHECK(*parse_cpuset("--cpuset", "2-2,5") == "2,5");
    CHECK(message_of(parse_cpuset("--cpuset", "9-2")) ==
          "--cpuset: invalid value '9-2': range 9-2 is descending");
    CHECK_FALSE(parse_cpuset("--cpuset", "3,1").ok());
    CHECK_FALSE(parse_cpuset("--cpuset", "0-3,2").ok());
    CHECK_FALSE(parse_cpuset("--cpuset", "a").ok());
    CHECK_FALSE(parse_cpuset("--cpuset", "1,,2").ok());

    CHECK(*parse_uint("--cpu-weight", "100", 1, 10000) == 100);
    CHECK(message_of(parse_uint("--cpu-weight", "0", 1, 10000)) ==
          "--cpu-weight: invalid value '0': out of range 1 to 10000");
    CHECK_FALSE(parse_uint("--io-weight", "100000", 1, 10000).ok());
    CHECK_FALSE(parse_uint("--io-weight", "1e3", 1, 10000).ok());
}

TEST_CASE("port forwards", "[unit]") {
    auto p = parse_port("8080:80");
    REQUIRE(p.ok());
    CHECK(*p == PortForward{"tcp", 8080, 80});
    CHECK(*parse_port("udp:53:5353") == PortForward{"udp", 53, 5353});
    CHECK(*parse_port("TCP:1:65535") == PortForward{"tcp", 1, 65535});
    CHECK(message_of(parse_port("70000:80")) ==
          "--port: invalid value '70000:80': host port 70000 is out of range 1-65535");
    CHECK_FALSE(parse_port("80:0").ok());
    CHECK_FALSE(parse_port("sctp:80:80").ok());
    CHECK_FALSE(parse_port("80").ok());
    CHECK_FALSE(parse_port("80:").ok());
    CHECK_FALSE(parse_port("a:b").ok());
}

TEST_CASE("environment entries", "[unit]") {
    CHECK(*parse_env("--env", "A=1") == "A=1");
    CHECK(*parse_env("--env", "EMPTY=") == "EMPTY=");
    CHECK(*parse_env("--env", "X=a=b") == "X=a=b");
    CHECK(message_of(parse_env("--env", "=x")) ==
          "--env: invalid value '=x': the variable name is empty");
    CHECK_FALSE(parse_env("--env", "NOVALUE").ok());
    CHECK_FALSE(parse_env("--env", "1A=x").ok());
    CHECK_FALSE(parse_env("--env", "A-B=x").ok());
    CHECK_FALSE(parse_env("--env", "A=x\ny").ok());
}

TEST_CASE("an --env entry longer than the kernel passes as one argument is refused (issue 15)",
          "[unit]") {
    // nspawn gets "--setenv=" + the entry: with its NUL, at most MAX_ARG_STRLEN (32 pages).
    CHECK(kMaxEnvEntryBytes + sizeof("--setenv=") == 32 * 4096);
    std::string longest = "E=" + std::string(kMaxEnvEntryBytes - 2, 'x');
    CHECK(parse_env("--env", longest).ok());
    std::string over = longest + "x";
    std::string why = message_of(parse_env("--env", over));
    CHECK(why.starts_with("--env: invalid value 'E=xxx"));
    CHECK(why.find(std::to_string(over.size()) + " bytes") != std::string::npos);
    CHECK(why.find("MAX_ARG_STRLEN") != std::string::npos);
    CHECK(why.size() < 300);  // the value is not repeated whole
    CHECK(message_of(parse_env("-e", std::string(128 << 10, 'A'))).starts_with("-e: "));
}

TEST_CASE("volumes", "[unit]") {
    auto v = parse_volume("/tmp:/data:ro", true);
    REQUIRE(v.ok());
    // With a user namespace of the container's own, binds are id-mapped unless asked not to be.
    CHECK(*v == Volume{"/tmp", "/data", true, "directory", true});
    CHECK(*parse_volume("/tmp/:/data/", true) == Volume{"/tmp", "/data", false, "directory", true});
    CHECK(*parse_volume("/tmp:/data", false) == Volume{"/tmp", "/data", false, "directory", false});
    CHECK(*parse_volume("/tmp:/data:noidmap", true) ==
          Volume{"/tmp", "/data", false, "directory", false});
    CHECK(*parse_volume("/tmp:/data:idmap,ro", true) ==
          Volume{"/tmp", "/data", true, "directory", true});
    CHECK(*parse_volume("/tmp:/data:rw,noidmap", false) ==
          Volume{"/tmp", "/data", false, "directory", false});
    CHECK(message_of(parse_volume("/tmp:/data:idmap", false)) ==
          "--volume: invalid value '/tmp:/data:idmap': idmap maps ids into the container's user "
          "namespace, and with --no-private-users it has none");
    CHECK(message_of(parse_volume("/tmp:/data:ro,rw", true)) ==
          "--volume: invalid value '/tmp:/data:ro,rw': 'rw' contradicts or repeats an option");
    CHECK(message_of(parse_volume("/tmp:/data:idmap,idmap", true)).find("repeats") !=
          std::string::npos);
    CHECK(message_of(parse_volume("/tmp:/x:rx", true)) ==
          "--volume: invalid value '/tmp:/x:rx': unknown option 'rx': expected ro or rw, and idmap "
          "or noidmap");
    CHECK(message_of(parse_volume("relative:/x", true)) ==
          "--volume: invalid value 'relative:/x': the host path must be absolute");
    CHECK_FALSE(parse_volume("/tmp:relative", true).ok());
    CHECK_FALSE(parse_volume("/tmp:/x:", true).ok());
    CHECK_FALSE(parse_volume("/tmp", true).ok());
    CHECK_FALSE(parse_volume("/tmp:/", true).ok());
    CHECK_FALSE(parse_volume("/tmp:/a/../b", true).ok());
    CHECK_FALSE(parse_volume("/no/such/volt/dir:/x", true).ok());
}

TEST_CASE("build_spec: a bad value with a newline is named on one line (found by fuzz_options)",
          "[unit]") {
    auto r = request();
    r.dns = {"1\n-1."};
    CHECK(message_of(build_spec(r)) ==
          "--dns: invalid value '1\\n-1.': not an IPv4 or IPv6 address");
    r = request();
    r.missing_controllers = "x\ny";
    CHECK(message_of(build_spec(r)).find("'x\\ny'") != std::string::npos);
    r = request();
    r.seccomp_unknown = "x\ny";
    CHECK(message_of(build_spec(r)).find("'x\\ny'") != std::string::npos);
    r = request();
    r.landlock_mode = "x\ny";
    CHECK(message_of(build_spec(r)).find("'x\\ny'") != std::string::npos);
}

TEST_CASE("build_spec validates every option and names the bad value", "[unit]") {
    auto ok = build_spec(request());
    REQUIRE(ok.ok());
    CHECK(ok->network == NetworkMode::private_net);
    CHECK(ok->private_users);
    CHECK(ok->seccomp == "default");
    CHECK(ok->landlock == "server");

    auto r = request();
    r.memory = "1G";
    r.memory_high = "2G";
    CHECK(message_of(build_spec(r)).find("--memory-high: invalid value '2G'") == 0);

    r = request();
    r.network = "host";
    r.ports = {"8080:80"};
    CHECK(message_of(build_spec(r)).find("--port: invalid value '8080:80'") == 0);

    r = request();
    r.ports = {"8080:80", "tcp:8080:81"};
    CHECK(message_of(build_spec(r)).find("forwarded twice") != std::string::npos);
    r.ports = {"8080:80", "udp:8080:80"};
    CHECK(build_spec(r).ok());

    r = request();
    r.network = "this-name-is-too-long";
    CHECK(message_of(build_spec(r)).find("--network: invalid value") == 0);
    r.network = "br-volt";
    auto bridged = build_spec(r);
    REQUIRE(bridged.ok());
    CHECK(bridged->network == NetworkMode::bridge);
    CHECK(bridged->bridge == "br-volt");

    r = request();
    r.seccomp = "loose";
    CHECK(message_of(build_spec(r)).find("--seccomp: invalid value 'loose'") == 0);
    r.seccomp = "/no/such/profile.json";
    CHECK(message_of(build_spec(r)).find("no such profile file") != std::string::npos);

    r = request();
    r.volumes = {"/tmp:/data", "/var:/data"};
    CHECK(message_of(build_spec(r)).find("mounted twice") != std::string::npos);

    r = request("../x");
    CHECK(message_of(build_spec(r)).find("'../x'") != std::string::npos);

    r = request();
    r.kernel = "/no/such/vmlinuz";
    CHECK(message_of(build_spec(r)).find("--kernel") == 0);
}

TEST_CASE("logs --since: dates, times, epochs, days and spans back from now", "[unit]") {
    ::setenv("TZ", "UTC", 1);  // local time is UTC for this test's absolute times
    ::tzset();
    constexpr std::uint64_t kS = 1000000;
    const std::uint64_t now = 1795386330ULL * kS + 123;  // 2026-11-22T22:25:30Z
    CHECK(*parse_since("now", now) == now);
    CHECK(*parse_since("@1795386330", now) == 1795386330ULL * kS);
    CHECK(*parse_since("2026-11-22", now) == 1795305600ULL * kS);
    CHECK(*parse_since("2026-11-22 22:25", now) == 1795386300ULL * kS);
    CHECK(*parse_since("2026-11-22T22:25:30", now) == 1795386330ULL * kS);
    CHECK(*parse_since("today", now) == 1795305600ULL * kS);
    CHECK(*parse_since("Yesterday", now) == (1795305600ULL - 86400) * kS);
    CHECK(*parse_since("-30s", now) == now - 30 * kS);
    CHECK(*parse_since("-5min", now) == now - 300 * kS);
    CHECK(*parse_since("2h ago", now) == now - 7200 * kS);
    CHECK(*parse_since("-1d", now) == now - 86400 * kS);
    CHECK(*parse_since("-1000000w", now) == 0);  // before the epoch: from the beginning
    for (const char* bad : {"", "-", "-5", "-5 fortnights", "2026-13-01", "2026-11-22 25:00",
                            "2026-11-22x", "2026-11-22 10:00:00junk", "@", "@12x", "soon"}) {
        auto r = parse_since(bad, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().describe().find(std::string("'") + bad + "'") != std::string::npos);
    }
}

TEST_CASE("logs --since: impossible dates and times are refused, not moved (issue 15)", "[unit]") {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    constexpr std::uint64_t kS = 1000000;
    const std::uint64_t now = 1795386330ULL * kS;
    CHECK(*parse_since("2024-02-29", now) == 1709164800ULL * kS);  // a leap day
    CHECK(*parse_since("2026-12-31 23:59:59", now) == 1798761599ULL * kS);
    for (const char* bad : {"2026-02-31", "2025-02-29", "2100-02-29", "2026-04-31",
                            "2026-06-31 10:00", "2026-01-01 10:00:60", "2026-00-10"}) {
        auto r = parse_since(bad, now);
        REQUIRE_FALSE(r);
        CHECK(r.error().describe().find(std::string("--since: invalid value '") + bad + "'") !=
              std::string::npos);
    }
    // A local time that a change to summer time skips does not exist either.
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
    if (parse_since("2026-01-01", now)) {  // the zone is installed
        CHECK(message_of(parse_since("2026-03-29 02:30", now)).find("no such date or time") !=
              std::string::npos);
        CHECK(parse_since("2026-03-29 03:30", now).ok());
    }
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    // Far past the year 9999: refused instead of wrapping around.
    CHECK(message_of(parse_since("@99999999999999999", now)).find("--since") != std::string::npos);
    CHECK(*parse_since("-99999999999999999d", now) == 0);  // from the beginning, no overflow
}
