#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "base/fs.hpp"
#include "runtime/rootfs/rootfs.hpp"
#include "runtime/verbs/host.hpp"
#include "support.hpp"

using namespace volt;

namespace {

struct stat lstat_of(const std::string& path) {
    struct stat st;
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

void write(const std::string& path, const std::string& data, mode_t mode = 0644) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fd);
}

std::string xattr(const std::string& path, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
    return n < 0 ? std::string("<") + std::strerror(errno) + ">"
                 : std::string(buf, static_cast<size_t>(n));
}

void set_times(const std::string& path, time_t mtime) {
    timespec t[2] = {{mtime - 100, 0}, {mtime, 123}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) == 0);
}

// The parts of an image every container root needs, without owners other than root: what an
// unprivileged user namespace can copy too.
void make_common_tree(const test::TempDir& img, const test::TempDir& outside) {
    write(outside / "secret", "host data");
    REQUIRE(fs::mkdir_p(img / "etc").ok());
    REQUIRE(fs::mkdir_p(img / "usr/bin").ok());
    write(img / "etc/hostname", "image\n");
    REQUIRE(::link((img / "etc/hostname").c_str(), (img / "usr/bin/hard").c_str()) == 0);
    // Symlinks that point out of the tree must be copied as links, never followed.
    REQUIRE(::symlink((outside / "secret").c_str(), (img / "etc/abs-link").c_str()) == 0);
    REQUIRE(::symlink("../../../../../../secret", (img / "etc/rel-link").c_str()) == 0);
    REQUIRE(::symlink(outside.path().c_str(), (img / "etc/dir-link").c_str()) == 0);
    REQUIRE(::mkfifo((img / "etc/fifo").c_str(), 0600) == 0);
    REQUIRE(::setxattr((img / "etc/hostname").c_str(), "user.volt", "v1", 2, 0) == 0);
    // Sparse: 8 MiB with one byte of data at the end.
    int fd = ::open((img / "usr/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, "z", 1, (8 << 20) - 1) == 1);
    ::close(fd);
    REQUIRE(::chmod((img / "usr/bin").c_str(), 0711) == 0);
    set_times(img / "etc/hostname", 1000000000);
    set_times(img / "etc/abs-link", 1100000000);
    set_times(img / "usr/bin", 1200000000);
}

void check_common_tree(const std::string& dst, const test::TempDir& outside) {
    CHECK(*fs::read_file(dst + "/etc/hostname") == "image\n");
    auto a = lstat_of(dst + "/etc/hostname");
    auto b = lstat_of(dst + "/usr/bin/hard");
    CHECK(a.st_ino == b.st_ino);
    CHECK(a.st_nlink == 2);
    CHECK(a.st_mtim.tv_sec == 1000000000);
    CHECK(a.st_mtim.tv_nsec == 123);
    CHECK(xattr(dst + "/etc/hostname", "user.volt") == "v1");

    auto link = lstat_of(dst + "/etc/abs-link");
    CHECK(S_ISLNK(link.st_mode));
    CHECK(link.st_mtim.tv_sec == 1100000000);
    char target[512] = {};
    REQUIRE(::readlink((dst + "/etc/abs-link").c_str(), target, sizeof target - 1) > 0);
    CHECK(std::string(target) == outside / "secret");
    CHECK(S_ISLNK(lstat_of(dst + "/etc/rel-link").st_mode));
    CHECK(S_ISLNK(lstat_of(dst + "/etc/dir-link").st_mode));
    CHECK(S_ISFIFO(lstat_of(dst + "/etc/fifo").st_mode));

    auto sparse = lstat_of(dst + "/usr/sparse");
    CHECK(sparse.st_size == 8 << 20);
    CHECK(sparse.st_blocks * 512 < 1 << 20);
    auto bin = lstat_of(dst + "/usr/bin");
    CHECK((bin.st_mode & 07777) == 0711);
    CHECK(bin.st_mtim.tv_sec == 1200000000);
    // The host file the links point to was neither read into the copy nor changed.
    CHECK(*fs::read_file(outside / "secret") == "host data");
}

}  // namespace

TEST_CASE("the in-process copy keeps links, holes, xattrs and times, and follows no symlink",
          "[privileged][rootless]") {
    test::TempDir img, outside, out;
    make_common_tree(img, outside);
    std::string dst = out / "rootfs";
    auto stats = rootfs::copy_tree(img.path(), dst);
    REQUIRE(stats.ok());
    CHECK(stats->hardlinks == 1);
    CHECK(stats->symlinks == 3);
    CHECK(stats->special == 1);
    check_common_tree(dst, outside);
    CHECK_FALSE(rootfs::copy_tree(img.path(), dst).ok());  // refuses an existing destination
}

TEST_CASE("the in-process copy keeps owners, setuid bits and file capabilities, not device nodes",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root (CAP_CHOWN, CAP_MKNOD)");
    test::TempDir img, outside, out;
    make_common_tree(img, outside);
    write(img / "usr/bin/suid", "#!/bin/sh\n", 0755);
    REQUIRE(::chown((img / "usr/bin/suid").c_str(), 1000, 2000) == 0);
    REQUIRE(::chmod((img / "usr/bin/suid").c_str(), 04755) == 0);
    write(img / "usr/bin/ping", "elf", 0755);
    // A v2 file capability (VFS_CAP_REVISION_2) granting CAP_NET_RAW (13), effective.
    const std::uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
    REQUIRE(::setxattr((img / "usr/bin/ping").c_str(), "security.capability", cap, sizeof cap, 0) ==
            0);
    REQUIRE(fs::mkdir_p(img / "dev").ok());
    REQUIRE(::mknod((img / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(::chmod((img / "dev/null").c_str(), 0666) == 0);
    // A host block device (loop0) outside /dev, hard-linked too: neither name is copied.
    REQUIRE(fs::mkdir_p(img / "var").ok());
    REQUIRE(::mknod((img / "var/evil").c_str(), S_IFBLK | 0666, makedev(7, 0)) == 0);
    REQUIRE(::link((img / "var/evil").c_str(), (img / "var/evil2").c_str()) == 0);
    REQUIRE(::lchown((img / "etc/abs-link").c_str(), 33, 44) == 0);
    REQUIRE(fs::mkdir_p(img / "home/user").ok());
    REQUIRE(::chown((img / "home/user").c_str(), 1000, 1000) == 0);
    REQUIRE(::chmod((img / "home/user").c_str(), 0700) == 0);
    set_times(img / "usr/bin", 1200000000);  // adding suid and ping above touched it

    std::string dst = out / "rootfs";
    auto stats = rootfs::copy_tree(img.path(), dst);
    REQUIRE(stats.ok());
    CHECK(stats->skipped_devices == 3);
    CHECK(stats->special == 1);  // the fifo
    check_common_tree(dst, outside);
    auto suid = lstat_of(dst + "/usr/bin/suid");
    CHECK(suid.st_uid == 1000);
    CHECK(suid.st_gid == 2000);
    CHECK((suid.st_mode & 07777) == 04755);
    std::uint32_t got[5] = {};
    REQUIRE(::getxattr((dst + "/usr/bin/ping").c_str(), "security.capability", got, sizeof got) ==
            sizeof got);
    CHECK(std::memcmp(got, cap, sizeof cap) == 0);
    CHECK(fs::is_directory(dst + "/dev"));
    struct stat gone;
    for (const char* node : {"/dev/null", "/var/evil", "/var/evil2"}) {
        INFO(node);
        CHECK(::lstat((dst + node).c_str(), &gone) < 0);
        CHECK(errno == ENOENT);
    }
    auto link = lstat_of(dst + "/etc/abs-link");
    CHECK(link.st_uid == 33);
    CHECK(link.st_gid == 44);
    auto home = lstat_of(dst + "/home/user");
    CHECK(home.st_uid == 1000);
    CHECK((home.st_mode & 0777) == 0700);
}

TEST_CASE("init detection resolves inside the root, in systemd-nspawn's order",
          "[privileged][rootless]") {
    test::TempDir root;
    REQUIRE(fs::mkdir_p(root / "usr/sbin").ok());
    REQUIRE(fs::mkdir_p(root / "bin").ok());
    REQUIRE(fs::mkdir_p(root / "opt/guest").ok());
    write(root / "bin/busybox", "");
    write(root / "opt/guest/systemd", "");
    REQUIRE(::symlink("usr/sbin", (root / "sbin").c_str()) == 0);
    // Absolute links are resolved against the container root, never the host's.
    REQUIRE(::symlink("/opt/guest/systemd", (root / "usr/sbin/init").c_str()) == 0);
    CHECK(runtime::detect_init(root.path()) == runtime::InitKind::systemd);
    REQUIRE(::unlink((root / "usr/sbin/init").c_str()) == 0);
    REQUIRE(::symlink("/bin/busybox", (root / "usr/sbin/init").c_str()) == 0);
    CHECK(runtime::detect_init(root.path()) == runtime::InitKind::busybox);
    // Dangling inside the root, even though the host has a systemd at this path.
    REQUIRE(::unlink((root / "usr/sbin/init").c_str()) == 0);
    REQUIRE(::symlink("/usr/lib/systemd/systemd", (root / "usr/sbin/init").c_str()) == 0);
    CHECK(runtime::detect_init(root.path()) == runtime::InitKind::other);
    // nspawn tries /usr/lib/systemd/systemd before /sbin/init (minbase + systemd has no
    // /sbin/init at all).
    REQUIRE(::unlink((root / "usr/sbin/init").c_str()) == 0);
    REQUIRE(::symlink("/bin/busybox", (root / "usr/sbin/init").c_str()) == 0);
    REQUIRE(fs::mkdir_p(root / "usr/lib/systemd").ok());
    write(root / "usr/lib/systemd/systemd", "");
    CHECK(runtime::detect_init(root.path()) == runtime::InitKind::systemd);
}
