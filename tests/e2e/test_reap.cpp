// End to end: a booted container whose nspawn exits, however it exits (Ctrl-C, the guest
// powering itself off, a SIGKILL of nspawn), leaves nothing behind, whether it was booted in the
// foreground (volt-run stays as nspawn's supervisor) or with --detach (a reaper is left behind);
// and stop or delete racing with the supervisor or the reaper leave nothing either. Each case
// runs in the fresh network namespace tests/ns-run gives it, which plays the host, and its
// container has a private network with a port forward, so that there is a veth, a network
// namespace, nft rules and a lease to leave.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

// How long a supervisor, a reaper or a boot may take before the test gives up on it: a bound
// against hanging, not a measurement.
constexpr int kPatienceMs = 60000;

// What a running container has, from inspect.
struct Run {
    pid_t nspawn = 0;
    pid_t leader = 0;
    std::string cgroup;
    std::string netns;
};

void create(const test::Sandbox& sb, const std::string& name) {
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--port", "8181:80"});
    INFO(r.err);
    REQUIRE(r.code == 0);
}

Run run_of(const json& info) {
    Run run;
    run.nspawn = info["nspawn_pid"].get<pid_t>();
    run.leader = info["leader_pid"].get<pid_t>();
    run.cgroup = info["cgroup"].get<std::string>();
    run.netns = info["network"]["netns"].get<std::string>();
    return run;
}

// A foreground boot has no READY to wait for: waits until the container runs and the guest's
// init answers an exec.
Run wait_running(const test::Sandbox& sb, const std::string& name, test::Background& boot) {
    for (int waited = 0; waited < kPatienceMs; waited += 100) {
        INFO(boot.output());
        REQUIRE_FALSE(boot.wait(0));  // the boot ended before its container ran
        auto r = sb.volt({"inspect", "--json", name});
        if (r.code == 0) {
            json info = json::parse(r.out);
            if (info["state"] == "running" && info["leader_pid"].get<pid_t>() > 0 &&
                sb.volt({"exec", name, "--", "true"}).code == 0) {
                Run run = run_of(info);
                CHECK(run.nspawn != boot.pid());  // volt-run supervises: its child became nspawn
                return run;
            }
        }
        ::usleep(100 * 1000);
    }
    FAIL("container " << name << " did not run: " << boot.output());
    return {};
}

// boot --detach; returns the run and the reaper it left behind (a child of ours as subreaper
// once the volt-run that booted it exited).
std::pair<Run, pid_t> boot_detached(const test::Sandbox& sb, const std::string& name) {
    auto r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    auto reapers = test::children_named("volt-reaper");
    REQUIRE(reapers.size() == 1);
    return {run_of(sb.inspect(name)), reapers.front()};
}

void wait_gone(pid_t pid) {
    for (int waited = 0; waited < kPatienceMs && test::process_alive(pid); waited += 50)
        ::usleep(50 * 1000);
    REQUIRE_FALSE(test::process_alive(pid));
}

// Nothing of the run is left: no process, state, cgroup on any hierarchy, veth, network
// namespace or nft rule, and list says stopped. The lease stays with the container, as after
// stop (the same address on the next boot), and goes with delete.
void nothing_left(const test::Sandbox& sb, const std::string& name, const Run& run) {
    CHECK_FALSE(test::process_alive(run.nspawn));
    CHECK_FALSE(test::process_alive(run.leader));
    CHECK_FALSE(fs::exists(sb.run_dir() + "/" + name));
    CHECK_FALSE(fs::exists(run.cgroup));
    CHECK_FALSE(test::cgroups_left(name));
    CHECK_FALSE(fs::exists(run.netns));
    CHECK_FALSE(test::has_links_of(name));
    CHECK_FALSE(test::has_nft_rules_of(name));
    auto r = sb.volt({"list", "--json"});
    REQUIRE(r.code == 0);
    json list = json::parse(r.out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["name"] == name);
    CHECK(list[0]["state"] == "stopped");
    CHECK(sb.volt({"exec", name, "--", "true"}).code == 2);
}

// After nothing_left: the container boots again, and delete leaves nothing of it at all.
void boots_again_and_deletes(const test::Sandbox& sb, const std::string& name) {
    auto [run, reaper] = boot_detached(sb, name);
    CHECK(sb.volt({"exec", name, "--", "true"}).code == 0);
    REQUIRE(sb.volt({"delete", "--force", "--time", "1", name}).code == 0);
    wait_gone(reaper);
    CHECK_FALSE(test::cgroups_left(name));
    CHECK_FALSE(fs::exists(run.netns));
    CHECK_THAT(fs::read_file(sb.root() + "/network/voltbr0.leases").value_or(""),
               !Catch::Contains(name));
    // volt-run's own directories stay, empty: no namespace, no owner entry of a run.
    CHECK(test::tree(sb.run_dir()) == std::vector<std::string>{".netns", ".netowners"});
}

}  // namespace

TEST_CASE("a foreground boot ended by Ctrl-C (SIGINT to its process group) leaves nothing",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrint");
    create(sb, name);
    test::Background boot(sb, {"boot", name});
    Run run = wait_running(sb, name, boot);
    // As the terminal sends Ctrl-C, and again while it runs, as a user would: nspawn halts the
    // guest on the first, but a busybox init that has only just started can miss its halt
    // signal, and the second makes nspawn kill the guest.
    std::optional<int> code;
    for (int waited = 0; !code && waited < kPatienceMs; waited += 5000) {
        REQUIRE(::kill(-boot.pid(), SIGINT) == 0);
        code = boot.wait(5000);
    }
    INFO(boot.output());
    REQUIRE(code);
    // volt-run outlived the Ctrl-C to collect, and exits with nspawn's status, adding no error
    // of its own.
    CHECK(*code != 128 + SIGINT);
    CHECK(*code != 125);
    CHECK(boot.output().find("volt-run:") == std::string::npos);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("a foreground boot whose guest powers itself off leaves nothing", "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hroff");
    create(sb, name);
    test::Background boot(sb, {"boot", name});
    Run run = wait_running(sb, name, boot);
    // reboot(POWER_OFF) in the guest's pid namespace ends its init (the guest's processes are
    // confined by Landlock's signal scope: they cannot signal init instead).
    auto r = sb.volt({"exec", name, "--", "poweroff", "-f"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto code = boot.wait(kPatienceMs);
    INFO(boot.output());
    REQUIRE(code);
    // nspawn's own status (it may call an init that ended at once a failure): volt-run adds no
    // error of its own, nor leaves anything to collect.
    CHECK(*code != 125);
    CHECK(boot.output().find("volt-run:") == std::string::npos);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("a foreground boot whose nspawn is SIGKILLed leaves nothing, exit status 137",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrfk");
    create(sb, name);
    test::Background boot(sb, {"boot", name});
    Run run = wait_running(sb, name, boot);
    REQUIRE(::kill(run.nspawn, SIGKILL) == 0);
    auto code = boot.wait(kPatienceMs);
    INFO(boot.output());
    REQUIRE(code);
    CHECK(*code == 128 + SIGKILL);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("boot --detach: a SIGKILLed nspawn leaves nothing once the reaper is done",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrdk");
    create(sb, name);
    auto [run, reaper] = boot_detached(sb, name);
    REQUIRE(::kill(run.nspawn, SIGKILL) == 0);
    wait_gone(reaper);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("boot --detach: a guest that powers itself off leaves nothing", "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrdoff");
    create(sb, name);
    auto [run, reaper] = boot_detached(sb, name);
    REQUIRE(sb.volt({"exec", name, "--", "poweroff", "-f"}).code == 0);
    wait_gone(reaper);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("stop of a supervised foreground boot: one of them collects, nothing is left",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrfs");
    create(sb, name);
    test::Background boot(sb, {"boot", name});
    Run run = wait_running(sb, name, boot);
    auto r = sb.volt({"stop", "--time", "1", name});
    INFO(r.err);
    CHECK(r.code == 0);
    auto code = boot.wait(kPatienceMs);
    INFO(boot.output());
    REQUIRE(code);
    // The supervisor found the run collected and says nothing of it: nspawn's status is its own.
    CHECK(boot.output().find("collecting") == std::string::npos);
    nothing_left(sb, name, run);
    boots_again_and_deletes(sb, name);
}

TEST_CASE("stop and delete --force of a detached boot race with its reaper: nothing is left",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrds");
    create(sb, name);
    {
        auto [run, reaper] = boot_detached(sb, name);
        auto r = sb.volt({"stop", "--time", "1", name});
        INFO(r.err);
        CHECK(r.code == 0);
        wait_gone(reaper);
        nothing_left(sb, name, run);
    }
    auto [run, reaper] = boot_detached(sb, name);
    auto r = sb.volt({"delete", "--force", "--time", "1", name});
    INFO(r.err);
    CHECK(r.code == 0);
    wait_gone(reaper);
    CHECK_FALSE(test::process_alive(run.nspawn));
    CHECK_FALSE(test::cgroups_left(name));
    CHECK_FALSE(fs::exists(run.netns));
    CHECK_FALSE(test::has_nft_rules_of(name));
    // volt-run's own directories stay, empty: no namespace, no owner entry of a run.
    CHECK(test::tree(sb.run_dir()) == std::vector<std::string>{".netns", ".netowners"});
    CHECK_FALSE(fs::exists(sb.root() + "/config/" + name));  // the reaper made no lock file
}

TEST_CASE("volt-run started with SIGCHLD ignored still sees its children end: boot, exec, stop",
          "[e2e][reap]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("hrign");
    create(sb, name);
    // A caller's SIG_IGN survives execve; with it the kernel would reap volt-run's children
    // unseen. boot --detach follows its child's hand-off (the copy born in the container's
    // cgroup, which -vv names in the console log) to READY and leaves its reaper.
    auto r = sb.volt_ignoring({SIGCHLD}, {"-vv", "boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    CHECK_THAT(fs::read_file(sb.run_dir() + "/" + name + "/console.log").value_or(""),
               Catch::Contains("by a copy born in it"));
    auto reapers = test::children_named("volt-reaper");
    REQUIRE(reapers.size() == 1);
    Run run = run_of(sb.inspect(name));
    // exec reports its command's exit status.
    CHECK(sb.volt_ignoring({SIGCHLD}, {"exec", name, "--", "sh", "-c", "exit 7"}).code == 7);
    REQUIRE(::kill(run.nspawn, SIGKILL) == 0);
    wait_gone(reapers.front());
    nothing_left(sb, name, run);
    // A foreground boot supervises nspawn to its end and collects the run.
    test::Background boot(sb, {"boot", name}, {SIGCHLD});
    Run again = wait_running(sb, name, boot);
    REQUIRE(::kill(again.nspawn, SIGKILL) == 0);
    auto code = boot.wait(kPatienceMs);
    INFO(boot.output());
    REQUIRE(code);
    CHECK(*code == 128 + SIGKILL);
    nothing_left(sb, name, again);
}
