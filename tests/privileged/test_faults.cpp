// Crash consistency: volt-run killed with SIGKILL (VOLT_FAULT, base/fault.hpp) at every numbered
// step of create, update and delete. After each kill, delete --force removes what the attempt
// made and the name can be created again, and nothing of it is left: no file, temporary or lock
// in the data root, the unit and settings directories or the run directory (test::sweep_faults).
// The points are learned from a traced run, so a step added later is covered without editing
// this file. Booting, stopping and deleting a running container are swept in e2e/test_faults.cpp.
// Below the sweeps: the temporaries killed writes leave are collected by whoever holds their lock,
// never a live writer's; and a --cgroup-root that boot cannot use makes nothing below it.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

bool has(const std::vector<std::string>& points, const std::string& point) {
    return std::find(points.begin(), points.end(), point) != points.end();
}

}  // namespace

TEST_CASE("create killed at any step leaves what delete --force removes, and nothing after it",
          "[privileged]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    // A custom profile and policy, so that their copies are steps too.
    REQUIRE(fs::write_file_atomic(src / "profile.json", R"({"defaultAction": "SCMP_ACT_ALLOW"})"));
    REQUIRE(fs::write_file_atomic(src / "policy", "fs /etc read\n"));
    const std::string name = sb.unique_name("hf-create");
    const std::vector<std::string> create = {
        "create",     name,          "--image",   img,
        "--network",  "none",        "--seccomp", src / "profile.json",
        "--landlock", src / "policy"};
    auto points = test::sweep_faults(sb, name, {create, {}, create, {}});
    for (const char* step : {"create:directories", "create:claim", "create:copy", "create:unit",
                             "create:settings", "create:seccomp profile", "create:landlock policy",
                             "create:rootfs", "create:spec", "create:systemd"})
        CHECK(has(points, step));
}

TEST_CASE("delete killed at any step leaves what delete --force removes", "[privileged]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const std::string name = sb.unique_name("hf-delete");
    const std::vector<std::string> create = {"create", name, "--image", img, "--network", "none"};
    auto points = test::sweep_faults(sb, name, {create, {create}, {"delete", name}, {}});
    for (const char* step :
         {"delete:stop", "delete:collect", "delete:unit file", "delete:settings file",
          "delete:rootfs", "delete:spec", "delete:config"})
        CHECK(has(points, step));
}

TEST_CASE("update killed at any step leaves a container that deletes and is created again",
          "[privileged]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const std::string name = sb.unique_name("hf-update");
    const std::vector<std::string> create = {"create", name, "--image", img, "--network", "none"};
    auto points = test::sweep_faults(
        sb, name, {create, {create}, {"update", name, "--memory", "64M", "--pids-max", "100"}, {}});
    CHECK(has(points, "update:spec"));
}

namespace {

// What a write killed before its rename leaves beside `path` (fs::write_file_atomic's name).
std::string leftover_of(const std::string& path, const std::string& random) {
    REQUIRE(random.size() == 6);
    const std::string temp = path + ".tmp." + random;
    REQUIRE(fs::mkdir_p(fs::dirname(temp)));
    REQUIRE(fs::write_file_atomic(temp, "half written"));
    return temp;
}

}  // namespace

TEST_CASE("create, update and delete remove the temporaries killed writes of a container left",
          "[privileged]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();
    const std::string name = sb.unique_name("hf-temps");
    const std::string other = sb.unique_name("hf-other");
    auto create = [&](const std::string& n) {
        auto r = sb.volt({"create", n, "--image", img, "--network", "none"});
        INFO(r.err);
        REQUIRE(r.code == 0);
    };
    create(other);
    // Another container's temporary is never touched by what is done to this one.
    const std::string others = leftover_of(p.unit_file(other), "Other1");

    // A create of the name that was killed while writing the unit and the settings file.
    std::vector<std::string> left = {leftover_of(p.unit_file(name), "Unit01"),
                                     leftover_of(p.nspawn_file(name), "Nspwn1")};
    create(name);
    for (const auto& t : left) {
        INFO(t);
        CHECK_FALSE(fs::exists(t));
    }
    // An update killed while writing the spec.
    left = {leftover_of(p.spec_file(name), "Spec01")};
    REQUIRE(sb.volt({"update", name, "--memory", "64M"}).code == 0);
    CHECK_FALSE(fs::exists(left[0]));

    // delete: every one of the container's, the leases' too (under the network lock).
    left = {leftover_of(p.spec_file(name), "Spec02"), leftover_of(p.unit_file(name), "Unit02"),
            leftover_of(p.nspawn_file(name), "Nspwn2"), leftover_of(p.state_file(name), "State1"),
            leftover_of(p.leases("voltbr0"), "Lease1")};
    auto removed = sb.volt({"delete", name});
    INFO(removed.err);
    REQUIRE(removed.code == 0);
    for (const auto& t : left) {
        INFO(t);
        CHECK_FALSE(fs::exists(t));
    }
    CHECK(fs::exists(others));
    CHECK(sb.volt({"inspect", other}).code == 0);
}

TEST_CASE("a live writer's temporary is never removed: its lock makes the collector wait",
          "[privileged]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();
    const std::string name = sb.unique_name("hf-live");
    REQUIRE(sb.volt({"create", name, "--image", img, "--network", "none"}).code == 0);
    // This process writes the spec, as every writer does: under the container's lock.
    auto lock = fs::FileLock::acquire(p.lock_file(name));
    REQUIRE(lock);
    const std::string temp = leftover_of(p.spec_file(name), "Live01");
    test::RunResult updated;
    std::thread collector([&] { updated = sb.volt({"update", name, "--memory", "32M"}); });
    ::usleep(300 * 1000);
    CHECK(fs::exists(temp));  // the update waits for the lock
    // The write completes (its rename), then the lock is given up.
    auto spec = fs::read_file(p.spec_file(name));
    REQUIRE(spec);
    REQUIRE(::rename(temp.c_str(), p.spec_file(name).c_str()) == 0);
    REQUIRE(fs::write_file_atomic(p.spec_file(name), *spec, 0600));
    lock->release();
    collector.join();
    INFO(updated.err);
    CHECK(updated.code == 0);
    CHECK(test::tree(p.config_dir(name)) == std::vector<std::string>{"lock", "spec.json"});
    CHECK(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("boot removes the temporary a killed boot's state write left", "[privileged]") {
    test::require_container_host();
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();
    const std::string name = sb.unique_name("hf-state");
    REQUIRE(sb.volt({"create", name, "--image", img, "--network", "none"}).code == 0);
    const std::string temp = leftover_of(p.state_file(name), "State2");
    // Collected first, under the lock, whatever nspawn makes of an image without an init.
    auto booted = sb.volt({"boot", "--detach", "--timeout", "10", name});
    INFO(booted.err);
    CHECK_FALSE(fs::exists(temp));
    CHECK(sb.volt({"delete", "--force", "--time", "0", name}).code == 0);
}

TEST_CASE("a --cgroup-root boot cannot use makes nothing below it", "[privileged]") {
    test::require_container_host();
    const std::string mount = test::writable_cgroup2();
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const std::string name = sb.unique_name("hf-cgroot");
    REQUIRE(sb.volt({"create", name, "--image", img, "--network", "none"}).code == 0);

    // No cgroup2 file system: refused in one line before anything is made.
    test::TempDir plain;
    auto r = sb.volt({"--cgroup-root", plain.path(), "boot", name});
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("not a directory of a cgroup2 file system") != std::string::npos);
    CHECK(test::tree(plain.path()).empty());

    // A cgroup2 directory whose tree does not hold the caller's cgroup: boot does not make it.
    const std::string root = mount + "/hf-root-" + std::to_string(::getpid());
    const std::string caller = mount + "/hf-caller-" + std::to_string(::getpid());
    REQUIRE(fs::mkdir_p(root));
    REQUIRE(fs::mkdir_p(caller));
    r = sb.volt({"--cgroup-root", root, "boot", name}, {}, {caller});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK(r.err.find("does not exist") != std::string::npos);
    std::vector<std::string> dirs;
    for (const auto& e : test::tree(root))
        if (fs::is_directory(root + "/" + e))
            dirs.push_back(e);
    CHECK(dirs.empty());
    CHECK_FALSE(fs::exists(sb.run_dir() + "/" + name + "/state.json"));
    ::rmdir(root.c_str());
    ::rmdir(caller.c_str());
    CHECK(sb.volt({"delete", name}).code == 0);
}
