// Resource limits through the real binary: enforced, or boot fails closed, or it boots and says
// what is not enforced; pause, resume and stats work on the container's cgroup. (That limits
// bite is the cgroup-vm tier's.)
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

void require_facilities() {
    test::require_container_host();
}

// The cgroup a running container's limits are written to.
std::string cgroup_of(const test::Sandbox& sb, const std::string& name) {
    return sb.inspect(name)["cgroup"].get<std::string>();
}

}  // namespace

// Whether the hierarchy can give the container a memory controller depends on the machine (ours
// cannot: no controllers, and a parent with processes). Either way volt-run must tell the truth:
// the limit is in memory.max, or boot refuses / inspect says it is not enforced.
TEST_CASE("a limit is enforced, or boot refuses, or inspect says it is not enforced", "[e2e]") {
    require_facilities();
    test::Sandbox sb;
    std::string name = sb.unique_name("lim");
    REQUIRE(sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none",
                     "--memory", "64M"})
                .code == 0);
    auto r = sb.volt({"boot", "--detach", name});
    INFO(r.err);
    if (r.code == 0) {
        auto limit = fs::read_file(cgroup_of(sb, name) + "/memory.max");
        REQUIRE(limit.ok());
        CHECK(*limit == "67108864\n");
        REQUIRE(sb.volt({"stop", name}).code == 0);
    } else {
        CHECK(r.code == 125);
        CHECK(r.err.find("cgroup controller memory (--memory") != std::string::npos);
        CHECK(r.err.find("--missing-controllers ignore") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        // Nothing runs and no cgroup was left.
        CHECK(sb.inspect(name)["state"] == "stopped");
        for (const auto& entry : test::tree(test::writable_cgroup2()))
            CHECK(entry.find(name) == std::string::npos);
    }
    REQUIRE(sb.volt({"delete", name}).code == 0);

    std::string relaxed = sb.unique_name("limok");
    REQUIRE(sb.volt({"create", relaxed, "--image", test::busybox_rootfs(), "--network", "none",
                     "--memory", "64M", "--missing-controllers", "ignore"})
                .code == 0);
    r = sb.volt({"boot", "--detach", relaxed});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string cgroup = cgroup_of(sb, relaxed);
    std::string said = sb.inspect(relaxed)["enforcement"]["resources"].get<std::string>();
    INFO(said);
    if (fs::exists(cgroup + "/memory.max")) {
        CHECK(said == "memory.max=67108864 (enforced)");
        CHECK(*fs::read_file(cgroup + "/memory.max") == "67108864\n");
    } else {
        CHECK(said.find("NOT enforced (controller missing): memory") != std::string::npos);
    }
    // A live update is written, or refused naming the controller.
    r = sb.volt({"update", relaxed, "--pids-max", "50"});
    if (fs::exists(cgroup + "/pids.max")) {
        CHECK(r.code == 0);
        CHECK(*fs::read_file(cgroup + "/pids.max") == "50\n");
    } else {
        CHECK(r.code == 125);
        CHECK(r.err.find("cgroup controller pids") != std::string::npos);
    }
    REQUIRE(sb.volt({"delete", "--force", relaxed}).code == 0);
}

TEST_CASE("pause, resume, stats and update of a container", "[e2e]") {
    require_facilities();
    test::Sandbox sb;
    std::string name = sb.unique_name("pr");
    REQUIRE(
        sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"}).code ==
        0);
    REQUIRE(sb.volt({"boot", "--detach", name}).code == 0);
    json info = sb.inspect(name);
    std::string cgroup = info["cgroup"].get<std::string>();

    REQUIRE(sb.volt({"pause", name}).code == 0);
    CHECK(fs::read_file(cgroup + "/cgroup.events")->find("frozen 1") != std::string::npos);
    REQUIRE(sb.volt({"resume", name}).code == 0);
    CHECK(fs::read_file(cgroup + "/cgroup.events")->find("frozen 0") != std::string::npos);
    CHECK(sb.volt({"exec", name, "--", "echo", "awake"}).out == "awake\n");

    auto r = sb.volt({"stats", "--json", name});
    REQUIRE(r.code == 0);
    json stats = json::parse(r.out);
    CHECK(stats["cpu_usage_usec"].get<std::uint64_t>() > 0);

    // Stopped: update changes the spec for the next boot.
    REQUIRE(sb.volt({"stop", name}).code == 0);
    CHECK(sb.volt({"stats", name}).code == 2);  // not running
    REQUIRE(sb.volt({"update", name, "--cpus", "1.5", "--pids-max", "64"}).code == 0);
    info = sb.inspect(name);
    CHECK(info["spec"]["resources"]["cpus_milli"] == 1500);
    CHECK(info["spec"]["resources"]["pids_max"] == 64);
    CHECK(info["enforcement"]["resources"] ==
          "cpu.max=150000 100000, pids.max=64 (written at boot)");
    r = sb.volt({"update", name, "--cpus", "0"});
    CHECK(r.code == 2);
    CHECK(r.err.find("'0'") != std::string::npos);
    CHECK(sb.volt({"update", name}).code == 2);  // nothing to change
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("list tells paused and dead containers from running and stopped ones", "[e2e]") {
    require_facilities();
    test::Sandbox sb;
    std::string name = sb.unique_name("lc");
    REQUIRE(
        sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"}).code ==
        0);
    auto state_of = [&] {
        auto r = sb.volt({"list", "--json"});
        REQUIRE(r.code == 0);
        for (const auto& c : json::parse(r.out))
            if (c["name"] == name)
                return c;
        FAIL("not listed");
        return json();
    };
    CHECK(state_of()["state"] == "stopped");
    REQUIRE(sb.volt({"boot", "--detach", name}).code == 0);
    CHECK(state_of()["state"] == "running");

    // Paused: listed so; exec is refused at once instead of hanging in the frozen cgroup; stop
    // thaws it first, so the guest halts on SIGTERM instead of being killed after the grace.
    REQUIRE(sb.volt({"pause", name}).code == 0);
    CHECK(state_of()["state"] == "paused");
    auto r = sb.volt({"exec", name, "--", "true"});
    CHECK(r.code == 2);
    CHECK(r.err ==
          "volt-run: container " + name + " is paused; volt-run resume " + name + " first\n");
    r = sb.volt({"-v", "stop", "--time", "5", name});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("did not halt") == std::string::npos);
    CHECK(state_of()["state"] == "stopped");

    // Dead: nspawn killed, its guest left running in the cgroup, and nobody to collect the run
    // (its reaper killed first: what a run under a unit whose ExecStopPost failed, or a
    // supervisor killed with nspawn, leaves). Not "running", not "stopped"; exec refuses; stop
    // collects the processes and the cgroup.
    REQUIRE(sb.volt({"boot", "--detach", name}).code == 0);
    (void)test::process_alive(1);  // reaps the earlier boot's reaper, which has exited
    const auto reapers = test::children_named("volt-reaper");
    REQUIRE_FALSE(reapers.empty());
    for (pid_t reaper : reapers) {
        ::kill(reaper, SIGKILL);
        while (test::process_alive(reaper))
            ::usleep(10000);
    }
    json info = sb.inspect(name);
    const std::string cgroup = info["cgroup"].get<std::string>();
    REQUIRE(::kill(info["nspawn_pid"].get<pid_t>(), SIGKILL) == 0);
    json dead;
    for (int i = 0; i < 100 && (dead = state_of())["state"] != "dead"; ++i)
        ::usleep(20000);  // until the kernel has the process gone: no timing is asserted
    CHECK(dead["state"] == "dead");
    CHECK(dead["leftovers"] == "processes in its cgroup");
    CHECK(sb.volt({"exec", name, "--", "true"}).code == 2);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    CHECK(state_of()["state"] == "stopped");
    CHECK_FALSE(fs::exists(cgroup));
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
