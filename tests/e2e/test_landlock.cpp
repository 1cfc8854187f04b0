// Landlock on booted containers: the policy binds exec'd commands (file system, network,
// scopes), and its network and scope part binds the whole container from boot.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "landlock/landlock.hpp"
#include "support.hpp"

using namespace volt;

namespace {

void require_facilities() {
    test::require_container_host();
    test::skip_unless(landlock::probe_abi() >= 6, "Landlock ABI 6 (network and scopes)");
}

}  // namespace

TEST_CASE("server policy: exec'd commands get the file rules, the container the network rules",
          "[e2e]") {
    require_facilities();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("ll");
    // The server policy plus: binding TCP is allowed on port 40001 only.
    std::string policy = sb.dir() / "server-40001.policy";
    REQUIRE(fs::write_file_atomic(policy, std::string(landlock::builtin_policy_text("server")) +
                                              "net bind-tcp 40001\n")
                .ok());
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none",
                      "--landlock", policy});
    INFO(r.err);
    REQUIRE(r.code == 0);
    // The guest's init starts two servers: only the one on the allowed port may listen. busybox
    // init runs sysinit lines one after the other; httpd binds before it daemonizes.
    REQUIRE(fs::write_file_atomic(sb.root() + "/containers/" + name + "/etc/inittab",
                                  "::sysinit:/bin/sh -c 'httpd -p 40001 -h /tmp'\n"
                                  "::sysinit:/bin/sh -c 'httpd -p 40002 -h /tmp'\n"
                                  "::sysinit:/bin/sh -c 'echo done > /tmp/sysinit-done'\n")
                .ok());
    r = sb.volt({"-v", "boot", "--detach", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);

    // From boot: the container's own processes are bound by the network rules.
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "i=0; while [ ! -e /tmp/sysinit-done ] && [ $i -lt 100 ]; do sleep 0.1; "
                 "i=$((i+1)); done; netstat -ltn"});
    INFO(r.out << r.err);
    CHECK(r.out.find(":40001 ") != std::string::npos);
    CHECK(r.out.find(":40002 ") == std::string::npos);

    // exec: the file rules. /etc is read-only, /tmp read-write, and the command reports them.
    r = sb.volt({"exec", "-v", name, "--", "touch", "/etc/volt-x"});
    CHECK(r.code == 1);
    CHECK(r.err.find("Permission denied") != std::string::npos);
    CHECK(r.err.find("Landlock policy " + policy + ", ABI") != std::string::npos);
    CHECK(r.err.find("skipped (not in the container): ") != std::string::npos);
    CHECK_FALSE(fs::exists(sb.root() + "/containers/" + name + "/etc/volt-x"));
    r = sb.volt({"exec", name, "--", "sh", "-c", "echo hi > /tmp/volt-x && cat /tmp/volt-x"});
    CHECK(r.code == 0);
    CHECK(r.out == "hi\n");
    CHECK(sb.volt({"exec", name, "--", "cat", "/etc/hostname"}).code == 0);
    // The scope: an exec'd command cannot signal the container's init (another domain).
    r = sb.volt({"exec", name, "--", "kill", "-0", "1"});
    CHECK(r.code == 1);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
    // A bind outside the policy is refused for exec'd commands too.
    // (timeout: were the bind allowed, httpd -f would serve until killed, and exit 143.)
    r = sb.volt({"exec", name, "--", "timeout", "2", "httpd", "-f", "-p", "40003", "-h", "/tmp"});
    CHECK(r.code == 1);
    CHECK(r.err.find("bind: Permission denied") != std::string::npos);

    // An older kernel, as VOLT_LANDLOCK_MAX_ABI pretends: best effort runs and says what is
    // missing; require refuses with one line.
    auto old_kernel = sb.env();
    old_kernel.push_back("VOLT_LANDLOCK_MAX_ABI=3");
    r = test::run({test::volt_run_binary(), "exec", name, "--", "true"}, old_kernel);
    CHECK(r.code == 0);
    CHECK(r.err.find("partial (ABI 3 cannot enforce: ioctl-dev, TCP bind") != std::string::npos);
    r = test::run(
        {test::volt_run_binary(), "exec", "--landlock-mode", "require", name, "--", "true"},
        old_kernel);
    CHECK(r.code == 125);
    CHECK(r.err.find("is required but partial (ABI 3") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    // exec takes the plan boot recorded and reads no policy: with create's copy of it replaced
    // by garbage, the rules hold as booted (and a re-plan would have refused the garbage).
    const std::string stored = sb.root() + "/config/" + name + "/landlock.policy";
    REQUIRE(fs::exists(stored));
    REQUIRE(fs::write_file_atomic(stored, "fs /etc frobnicate\n").ok());
    r = sb.volt({"exec", name, "--", "touch", "/etc/volt-y"});
    CHECK(r.code == 1);
    CHECK(r.err.find("Permission denied") != std::string::npos);
    CHECK_FALSE(fs::exists(sb.root() + "/containers/" + name + "/etc/volt-y"));
    CHECK(sb.volt({"exec", name, "--", "touch", "/tmp/volt-y"}).code == 0);
    // Where the recorded plan does not apply (here: a pretended older kernel), exec plans again
    // from the policy, and says what is wrong with it.
    r = test::run({test::volt_run_binary(), "exec", name, "--", "true"}, old_kernel);
    CHECK(r.code != 0);
    CHECK(r.err.find(stored) != std::string::npos);

    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("systemd boots to READY under the server policy's boot part", "[e2e]") {
    require_facilities();
    REQUIRE(fs::is_directory(test::debian_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("lldeb");
    auto r = sb.volt({"create", name, "--image", test::debian_rootfs(), "--network", "none",
                      "--landlock", "server", "--landlock-mode", "require"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"-v", "boot", "--detach", "--timeout", "90", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"exec", name, "--", "systemctl", "is-system-running", "--wait"});
    INFO(r.out << r.err);
    CHECK((r.out == "running\n" || r.out == "degraded\n"));
    r = sb.volt({"exec", name, "--", "touch", "/usr/volt-x"});
    CHECK(r.code == 1);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
