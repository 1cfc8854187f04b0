// Crash consistency of a booted container: volt-run killed with SIGKILL (VOLT_FAULT,
// base/fault.hpp) at every step of boot (each step of its private network too), of stop, and of
// delete --force of a running container. After each kill, delete --force removes what the
// attempt made and the name can be created again, and nothing of it is left: no file, temporary
// or lock, cgroup, link, namespace, nftables rule, lease or mount (test::sweep_faults). Each case
// runs in the fresh network and mount namespaces tests/ns-run gives it, which play the host.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

bool has(const std::vector<std::string>& points, const std::string& point) {
    return std::find(points.begin(), points.end(), point) != points.end();
}

std::vector<std::string> create_private(const std::string& name) {
    return {"create",    name,      "--image", test::busybox_rootfs(), "--network",  "private",
            "--port",    "8080:80", "--dns",   "192.0.2.53",           "--landlock", "none",
            "--seccomp", "default"};
}

std::vector<std::string> boot(const std::string& name) {
    return {"boot", "--detach", "--timeout", "60", name};
}

}  // namespace

TEST_CASE("boot killed at any step, its network's too, leaves what delete --force removes",
          "[e2e][faults]") {
    test::require_container_host();
    test::OtherCgroups elsewhere("hf-elsewhere");
    test::Sandbox sb;
    const std::string name = sb.unique_name("hf-boot");
    const auto create = create_private(name);
    auto points = test::sweep_faults(sb, name, {create, {create}, boot(name), elsewhere.paths()});
    for (const char* step :
         {"boot:console log", "boot:fork", "boot:cgroup", "boot:join cgroup", "boot:network lease",
          "boot:state", "boot:network", "boot:network:bridge", "boot:network:netns",
          "boot:network:veth", "boot:network:nftables", "boot:network:resolv.conf",
          "boot:join netns", "boot:exec"})
        CHECK(has(points, step));
}

TEST_CASE("stop killed at any step leaves what delete --force removes", "[e2e][faults]") {
    test::require_container_host();
    test::OtherCgroups elsewhere("hf-elsewhere");
    test::Sandbox sb;
    const std::string name = sb.unique_name("hf-stop");
    const auto create = create_private(name);
    auto points = test::sweep_faults(
        sb, name, {create, {create, boot(name)}, {"stop", "--time", "0", name}, elsewhere.paths()});
    for (const char* step :
         {"stop:signal", "stop:collect", "collect:network", "collect:cgroup", "collect:state"})
        CHECK(has(points, step));
}

TEST_CASE("delete --force of a running container killed at any step is completed by another",
          "[e2e][faults]") {
    test::require_container_host();
    test::OtherCgroups elsewhere("hf-elsewhere");
    test::Sandbox sb;
    const std::string name = sb.unique_name("hf-rm");
    const auto create = create_private(name);
    auto points = test::sweep_faults(sb, name,
                                     {create,
                                      {create, boot(name)},
                                      {"delete", "--force", "--time", "0", name},
                                      elsewhere.paths()});
    for (const char* step : {"delete:stop", "stop:signal", "collect:network", "delete:collect",
                             "collect by name:cgroups", "delete:lease", "delete:config"})
        CHECK(has(points, step));
}

TEST_CASE("what a killed systemd-nspawn leaves of a run is removed by delete", "[e2e][faults]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = sb.unique_name("hf-nspawn");
    REQUIRE(
        sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"}).code ==
        0);
    auto booted = sb.volt(boot(name));
    INFO(booted.err);
    REQUIRE(booted.code == 0);
    const std::string root = sb.root() + "/containers/" + name;
    struct stat st;
    REQUIRE(::stat(root.c_str(), &st) == 0);
    // nspawn's lock files for the root, and its propagation directory: gone when it exits, left
    // when it is killed (by the OOM killer, say).
    const std::vector<std::string> leftovers = {
        sb.root() + "/containers/.#" + name + ".lck",
        "/run/systemd/nspawn/locks/inode-" + std::to_string(static_cast<unsigned long>(st.st_dev)) +
            ":" + std::to_string(static_cast<unsigned long>(st.st_ino)),
        "/run/systemd/nspawn/propagate/" + name};
    for (const auto& path : leftovers) {
        INFO(path);
        CHECK(fs::exists(path));
    }
    // While nspawn runs, its locks are held: a collection leaves them.
    REQUIRE(fs::remove_lock_file(leftovers[0]));
    REQUIRE(fs::remove_lock_file(leftovers[1]));
    CHECK(fs::exists(leftovers[0]));
    CHECK(fs::exists(leftovers[1]));
    test::kill_nspawn(sb, name);
    auto removed = sb.volt({"delete", "--force", "--time", "0", name});
    INFO(removed.err);
    CHECK(removed.code == 0);
    for (const auto& path : leftovers) {
        INFO(path);
        CHECK_FALSE(fs::exists(path));
    }
}

TEST_CASE("stop --time 0 kills the guest first, so that nspawn exits and removes what it made",
          "[e2e][faults]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = sb.unique_name("hf-halt");
    REQUIRE(
        sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"}).code ==
        0);
    REQUIRE(sb.volt(boot(name)).code == 0);
    const std::string root = sb.root() + "/containers/" + name;
    struct stat st;
    REQUIRE(::stat(root.c_str(), &st) == 0);
    // Killed before volt-run collects what nspawn leaves: nspawn removed it all itself.
    auto stopped = sb.volt({"stop", "--time", "0", name}, {"VOLT_FAULT=collect:nspawn"});
    INFO(stopped.err);
    CHECK(stopped.code == 128 + SIGKILL);
    CHECK_FALSE(fs::exists(sb.root() + "/containers/.#" + name + ".lck"));
    CHECK_FALSE(fs::exists("/run/systemd/nspawn/locks/inode-" +
                           std::to_string(static_cast<unsigned long>(st.st_dev)) + ":" +
                           std::to_string(static_cast<unsigned long>(st.st_ino))));
    CHECK_FALSE(fs::exists("/run/systemd/nspawn/propagate/" + name));
    CHECK(sb.volt({"delete", "--force", name}).code == 0);
}
