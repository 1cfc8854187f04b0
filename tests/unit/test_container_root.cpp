// ContainerRoot: every file of a guest is reached below its root, never by a host path string,
// and nothing the guest puts there (symlinks, FIFOs, huge files) can lead out, stall or flood us.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "support.hpp"

using namespace volt;
using volt::rootfs::ContainerRoot;

TEST_CASE("writes into a container's root stay inside it and skip unchanged files", "[unit]") {
    test::TempDir dir;
    std::string root = dir / "root", outside = dir / "outside";
    REQUIRE(fs::mkdir_p(root + "/etc"));
    REQUIRE(fs::write_file_atomic(outside, "host's\n"));
    auto inode = [](const std::string& path) {
        struct stat st;
        REQUIRE(::lstat(path.c_str(), &st) == 0);
        return st.st_ino;
    };
    auto opened = ContainerRoot::open(root);
    REQUIRE(opened.ok());
    const ContainerRoot& r = *opened;
    // A symlink at the name, even an absolute one, is replaced and not followed.
    REQUIRE(::symlink(outside.c_str(), (root + "/etc/resolv.conf").c_str()) == 0);
    REQUIRE(r.write_file("/etc", "resolv.conf", "nameserver 1.1.1.1\n", 0644));
    CHECK(*fs::read_file(outside) == "host's\n");
    CHECK(*fs::read_file(root + "/etc/resolv.conf") == "nameserver 1.1.1.1\n");
    // The same content again: the file is not replaced.
    auto first = inode(root + "/etc/resolv.conf");
    REQUIRE(r.write_file("/etc", "resolv.conf", "nameserver 1.1.1.1\n", 0644));
    CHECK(inode(root + "/etc/resolv.conf") == first);
    // Other content, or another mode, is written.
    REQUIRE(r.write_file("/etc", "resolv.conf", "nameserver 9.9.9.9\n", 0644));
    CHECK(*fs::read_file(root + "/etc/resolv.conf") == "nameserver 9.9.9.9\n");
    auto second = inode(root + "/etc/resolv.conf");
    CHECK(second != first);
    REQUIRE(r.write_file("/etc", "resolv.conf", "nameserver 9.9.9.9\n", 0600));
    struct stat st;
    REQUIRE(::stat((root + "/etc/resolv.conf").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    // The directory is resolved inside the root: a symlinked /etc cannot lead out.
    REQUIRE(fs::mkdir_p(dir / "root2"));
    REQUIRE(::symlink(dir.path().c_str(), (dir / "root2/etc").c_str()) == 0);
    auto root2 = ContainerRoot::open(dir / "root2");
    REQUIRE(root2.ok());
    REQUIRE(root2->write_file("/etc", "outside", "x\n", 0644).ok() == false);
    CHECK(*fs::read_file(outside) == "host's\n");
}

TEST_CASE("a FIFO planted where a file is meant is replaced or refused, never waited on",
          "[unit]") {
    test::TempDir dir;
    std::string root = dir / "root";
    REQUIRE(fs::mkdir_p(root + "/etc"));
    REQUIRE(::mkfifo((root + "/etc/resolv.conf").c_str(), 0644) == 0);
    REQUIRE(::mkfifo((root + "/etc/machine-id").c_str(), 0644) == 0);
    auto r = ContainerRoot::open(root);
    REQUIRE(r.ok());
    // Before, opening the FIFO to compare its content blocked boot forever.
    REQUIRE(r->write_file("/etc", "resolv.conf", "nameserver 1.1.1.1\n", 0644));
    CHECK(*fs::read_file(root + "/etc/resolv.conf") == "nameserver 1.1.1.1\n");
    auto id = r->read_file("/etc/machine-id", 64);
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().code() == EINVAL);
}

TEST_CASE("reads of guest files: regular files only, size-capped, links kept inside", "[unit]") {
    test::TempDir dir;
    std::string root = dir / "root", outside = dir / "secret";
    REQUIRE(fs::mkdir_p(root + "/etc"));
    REQUIRE(fs::write_file_atomic(outside, "host secret\n"));
    REQUIRE(fs::write_file_atomic(root + "/etc/machine-id", "0123456789abcdef0123456789abcdef\n"));
    auto r = ContainerRoot::open(root);
    REQUIRE(r.ok());
    CHECK(*r->read_file("/etc/machine-id", 64) == "0123456789abcdef0123456789abcdef\n");
    // Over the cap: refused, not truncated.
    auto big = r->read_file("/etc/machine-id", 8);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().code() == EFBIG);
    // A symlink as the last component is not followed, even to a file inside.
    REQUIRE(::symlink("/etc/machine-id", (root + "/etc/link").c_str()) == 0);
    auto link = r->read_file("/etc/link", 64);
    REQUIRE_FALSE(link.ok());
    CHECK(link.error().describe().find("not a regular file") != std::string::npos);
    // A symlinked directory pointing at the host resolves inside the root, where it is missing.
    REQUIRE(::symlink(dir.path().c_str(), (root + "/host").c_str()) == 0);
    CHECK_FALSE(r->read_file("/host/secret", 64).ok());
    REQUIRE(::symlink("../../../../../../..", (root + "/up").c_str()) == 0);
    CHECK_FALSE(r->read_file("/up" + outside, 64).ok());
    // A directory or a device node where a file is meant: refused before anything opens it.
    CHECK(r->read_file("/etc", 64).error().code() == EINVAL);
    if (::mknod((root + "/etc/dev").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0)
        CHECK(r->read_file("/etc/dev", 64).error().code() == EINVAL);
    // resolve() says where a path leads, as the container sees it.
    REQUIRE(fs::mkdir_p(root + "/bin"));
    REQUIRE(fs::write_file_atomic(root + "/bin/busybox", "", 0755));
    REQUIRE(fs::mkdir_p(root + "/sbin"));
    REQUIRE(::symlink("../bin/busybox", (root + "/sbin/init").c_str()) == 0);
    CHECK(*r->resolve("/sbin/init") == "/bin/busybox");
    CHECK(*r->resolve("/") == "/");
}
