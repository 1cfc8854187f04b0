// End to end: real containers booted by systemd-nspawn through the volt-run binary.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

// Boots, checks the container from outside and inside, stops, deletes, and proves that no
// process, cgroup, file or state of it is left.
void lifecycle(const std::string& image, const std::string& base_name,
               const std::vector<std::string>& extra_create) {
    test::Sandbox sb;
    std::string name = sb.unique_name(base_name);
    std::vector<std::string> create = {"--network", "none"};
    create.insert(create.end(), extra_create.begin(), extra_create.end());
    test::create_and_boot(sb, name, image, create);
    test::RunResult r;
    json info = sb.inspect(name);
    REQUIRE(info["state"] == "running");
    pid_t nspawn = info["nspawn_pid"].get<pid_t>();
    pid_t leader = info["leader_pid"].get<pid_t>();
    std::string cgroup = info["cgroup"].get<std::string>();
    CHECK(leader > 0);
    CHECK(fs::is_directory(cgroup + "/payload"));
    // The container's init is in the container's own cgroup, not volt-run's or the test's.
    CHECK(fs::read_file(cgroup + "/payload/cgroup.procs")->find(std::to_string(leader)) !=
          std::string::npos);

    r = sb.volt({"exec", name, "--", "echo", "hello"});
    CHECK(r.code == 0);
    CHECK(r.out == "hello\n");
    r = sb.volt({"exec", name, "--", "sh", "-c", "exit 7"});
    CHECK(r.code == 7);
    r = sb.volt({"exec", name, "--", "sh", "-c", "kill -TERM $$"});
    CHECK(r.code == 128 + SIGTERM);
    // Inside: PID 1 is the guest's init, and the command runs in the container's cgroup.
    r = sb.volt({"exec", "--env", "GREETING=hi there", "--workdir", "/etc", name, "--", "sh", "-c",
                 "echo $GREETING; pwd; cat /proc/1/comm; cat /proc/self/cgroup | grep '^0::'"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("hi there\n/etc\n", 0) == 0);
    CHECK(r.out.find("0::/\n") != std::string::npos);
    // exec'd commands get the capabilities of the container's init, not volt-run's.
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "grep CapBnd /proc/1/status; grep CapBnd /proc/self/status; "
                 "grep CapEff /proc/self/status"});
    {
        std::string init_bnd = r.out.substr(0, r.out.find('\n'));
        std::string rest = r.out.substr(r.out.find('\n') + 1);
        CHECK(rest.substr(0, rest.find('\n')) == init_bnd);
        CHECK(init_bnd != "CapBnd:\t000001ffffffffff");  // nspawn did drop some
        CHECK(rest.find("CapEff:\t" + init_bnd.substr(8)) != std::string::npos);
    }
    r = sb.volt({"exec", name, "--", "no-such-command"});
    CHECK(r.code == 127);
    CHECK(r.err == "volt-run: no-such-command: command not found\n");
    r = sb.volt({"exec", name, "--", "/etc"});
    CHECK(r.code == 126);
    // stdin passes through.
    r = test::run({test::volt_run_binary(), "exec", name, "--", "cat"}, sb.env(), "piped\n");
    CHECK(r.out == "piped\n");

    CHECK(sb.volt({"boot", "--detach", name}).code == 2);  // already running
    CHECK(sb.volt({"delete", name}).code == 2);            // running, no --force

    r = sb.volt({"stop", "--time", "20", name});
    INFO("stop: " << r.err);
    REQUIRE(r.code == 0);
    CHECK_FALSE(test::process_alive(nspawn));
    CHECK_FALSE(test::process_alive(leader));
    CHECK_FALSE(fs::exists(cgroup));
    CHECK(sb.inspect(name)["state"] == "stopped");
    CHECK(sb.volt({"exec", name, "--", "true"}).code == 2);

    r = sb.volt({"delete", name});
    REQUIRE(r.code == 0);
    // Only what is shared by all containers remains: the compiled seccomp filters' cache.
    std::vector<std::string> left;
    for (const auto& entry : test::tree(sb.root()))
        if (entry.rfind("cache", 0) != 0)
            left.push_back(entry);
    CHECK(left == std::vector<std::string>{"config", "containers"});
    CHECK(test::tree(sb.run_dir()).empty());
    CHECK(test::tree(sb.unit_dir()).empty());
    CHECK(test::tree(sb.nspawn_dir()).empty());
}

}  // namespace

TEST_CASE("busybox container: create, boot, exec, stop, delete leave nothing behind", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));  // built by the busybox-rootfs fixture
    lifecycle(test::busybox_rootfs(), "bb", {});
}

TEST_CASE("busybox container without a user namespace", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    lifecycle(test::busybox_rootfs(), "bbnu", {"--no-private-users"});
}

TEST_CASE("debootstrapped bookworm with systemd boots to READY and answers exec", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::debian_rootfs()));  // built by the debian-rootfs fixture
    test::Sandbox sb;
    std::string name = sb.unique_name("deb");
    auto r = sb.volt({"create", name, "--image", test::debian_rootfs(), "--network", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(sb.inspect(name)["spec"]["init"] == "systemd");
    // --detach returns only when the guest's systemd itself reported READY=1.
    r = sb.volt({"boot", "--detach", "--timeout", "90", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"exec", name, "--", "cat", "/proc/1/comm"});
    CHECK(r.out == "systemd\n");
    r = sb.volt({"exec", name, "--", "systemctl", "is-system-running", "--wait"});
    INFO(r.out << r.err);
    CHECK((r.out == "running\n" || r.out == "degraded\n"));
    r = sb.volt({"exec", name, "--", "sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME"});
    CHECK(r.out == "bookworm\n");
    std::string cgroup = sb.inspect(name)["cgroup"].get<std::string>();
    r = sb.volt({"stop", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(cgroup));
    REQUIRE(sb.volt({"delete", name}).code == 0);
    CHECK(test::tree(sb.run_dir()).empty());
}

TEST_CASE("two boots of one container at once: one boots it, the other is refused at once",
          "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    std::string name = sb.unique_name("race");
    REQUIRE(
        sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"}).code ==
        0);
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        test::RunResult a, b;
        // Results are collected in the threads and checked here (Catch2 is not thread-safe).
        std::thread first([&] { a = sb.volt({"boot", "--detach", "--timeout", "60", name}); });
        std::thread second([&] { b = sb.volt({"boot", "--detach", "--timeout", "60", name}); });
        first.join();
        second.join();
        INFO("a: " << a.code << " " << a.err << "b: " << b.code << " " << b.err);
        CHECK(((a.code == 0) != (b.code == 0)));
        const test::RunResult& refused = a.code == 0 ? b : a;
        CHECK(refused.code == 2);
        CHECK((refused.err.find("is being booted by another volt-run") != std::string::npos ||
               refused.err.find("is already running") != std::string::npos));
        // The one that booted it left it running and usable.
        CHECK(sb.volt({"exec", name, "--", "true"}).code == 0);
        REQUIRE(sb.volt({"stop", name}).code == 0);
    }
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
