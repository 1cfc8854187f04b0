// cp on a running container: the copy lands in the tree the guest sees (nspawn's tmpfs on /tmp,
// not the root on disk), with owners mapped through the container's user namespace.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {}  // namespace

TEST_CASE("cp into a running container's /tmp shows up in exec at once, and out again", "[e2e]") {
    test::Sandbox sb;
    const std::string name = sb.unique_name("cpt");
    test::boot_busybox(sb, name);
    const std::string rootfs = sb.root() + "/containers/" + name;

    test::TempDir host("cpt-host");
    REQUIRE(fs::write_file_atomic(host / "f", "hello from the host\n", 0640));
    REQUIRE(::chown((host / "f").c_str(), 1000, 1001) == 0);

    auto r = sb.volt({"cp", host / "f", name + ":/tmp/"});
    INFO(r.err);
    CHECK(r.code == 0);
    r = sb.volt({"exec", name, "--", "cat", "/tmp/f"});
    CHECK(r.out == "hello from the host\n");
    // The numeric ids the file had on the host, as the guest sees them in its user namespace.
    r = sb.volt({"exec", name, "--", "stat", "-c", "%u:%g:%a", "/tmp/f"});
    CHECK(r.out == "1000:1001:640\n");
    // The guest's /tmp is nspawn's tmpfs: nothing was written to the root on disk.
    CHECK_FALSE(fs::exists(rootfs + "/tmp/f"));
    // The guest's root is not the host's: its ids on the host are the mapped ones.
    r = sb.volt({"exec", name, "--", "cat", "/proc/self/uid_map"});
    CHECK(r.out.find(" 0 ") != std::string::npos);

    // Out: a file the guest made, with the ids the guest gave it and no setuid bit.
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "echo made inside > /tmp/g && chown 33:44 /tmp/g && chmod 4755 /tmp/g"});
    REQUIRE(r.code == 0);
    r = sb.volt({"cp", name + ":/tmp/g", host / "g"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::read_file(host / "g").value_or("") == "made inside\n");
    struct stat st {};
    REQUIRE(::lstat((host / "g").c_str(), &st) == 0);
    CHECK((st.st_uid == 33 && st.st_gid == 44));
    CHECK((st.st_mode & 07777) == 0755);

    // A link the guest plants at the destination, pointing at a host directory, is replaced.
    const std::string marker = host / "marker";
    REQUIRE(fs::mkdir_p(marker));
    r = sb.volt({"exec", name, "--", "ln", "-s", marker, "/tmp/x"});
    REQUIRE(r.code == 0);
    r = sb.volt({"cp", host / "f", name + ":/tmp/x"});
    CHECK(r.code == 0);
    r = sb.volt(
        {"exec", name, "--", "sh", "-c", "test -f /tmp/x && test ! -L /tmp/x && cat /tmp/x"});
    CHECK(r.out == "hello from the host\n");
    CHECK(test::tree(marker).empty());

    // Nothing of the guest's /proc or /sys leaves it: read as the host's root they are the
    // host's.
    for (const char* path : {"/proc", "/proc/self/status", "/proc/kcore", "/sys/kernel"}) {
        INFO(path);
        r = sb.volt({"cp", name + ":" + path, host / "k"});
        CHECK(r.code == 2);
        CHECK_FALSE(fs::exists(host / "k"));
    }
    // nspawn's /sys is a tmpfs with sysfs and cgroup mounts below: only the tmpfs's directories
    // come out, no file of the kernel's.
    r = sb.volt({"cp", name + ":/sys", host / "sys"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("/proc, /sys and the like") != std::string::npos);
    for (const auto& entry : test::tree(host / "sys")) {
        INFO(entry);
        struct stat e {};
        REQUIRE(::lstat((host / "sys/" + entry).c_str(), &e) == 0);
        CHECK(S_ISDIR(e.st_mode));
    }

    r = sb.volt({"stop", "--time", "20", name});
    INFO(r.err);
    CHECK(r.code == 0);
    // Stopped: the root on disk, with the idmapped root's ids (the guest's own).
    r = sb.volt({"cp", host / "f", name + ":/root/"});
    INFO(r.err);
    CHECK(r.code == 0);
    REQUIRE(::lstat((rootfs + "/root/f").c_str(), &st) == 0);
    CHECK((st.st_uid == 1000 && st.st_gid == 1001));
    CHECK(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("cp into and out of a running container without a user namespace keeps the ids",
          "[e2e]") {
    test::Sandbox sb;
    const std::string name = sb.unique_name("cptnu");
    test::boot_busybox(sb, name, {"--no-private-users"});
    test::TempDir host("cpt-host");
    REQUIRE(fs::write_file_atomic(host / "f", "no namespace\n", 0600));
    REQUIRE(::chown((host / "f").c_str(), 1000, 1001) == 0);
    auto r = sb.volt({"cp", host / "f", name + ":/tmp/f"});
    INFO(r.err);
    CHECK(r.code == 0);
    r = sb.volt({"exec", name, "--", "stat", "-c", "%u:%g:%a", "/tmp/f"});
    CHECK(r.out == "1000:1001:600\n");
    r = sb.volt({"cp", name + ":/tmp/f", host / "back"});
    CHECK(r.code == 0);
    struct stat st {};
    REQUIRE(::lstat((host / "back").c_str(), &st) == 0);
    CHECK((st.st_uid == 1000 && st.st_gid == 1001));
    CHECK(fs::read_file(host / "back").value_or("") == "no namespace\n");
    r = sb.volt({"stop", "--time", "20", name});
    CHECK(r.code == 0);
    CHECK(sb.volt({"delete", name}).code == 0);
}
