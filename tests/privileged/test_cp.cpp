// cp on a stopped container's root, through the real binary: hostile content in the root never
// leads a copy onto the host, and what is copied keeps its modes, owners, times and xattrs.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

size_t lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

std::string xattr_of(const std::string& path, const char* key) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), key, buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

// A stopped container (default: a user namespace, nspawn's idmapped root) and its root on disk.
struct Stopped {
    test::Sandbox sb;
    test::TempDir image_dir{"cpt-image"};
    std::string name = sb.unique_name("cpt");
    std::string rootfs;
    Stopped() {
        auto r =
            sb.volt({"create", name, "--image", test::tiny_image(image_dir), "--network", "none"});
        INFO(r.err);
        REQUIRE(r.code == 0);
        rootfs = sb.root() + "/containers/" + name;
    }
};

// No temporary of a cp is left in dir.
bool temporaries_in(const std::string& dir) {
    auto names = fs::list_dir(dir);
    REQUIRE(names.ok());
    return std::any_of(names->begin(), names->end(),
                       [](const std::string& n) { return n.starts_with(".volt-cp-"); });
}

}  // namespace

TEST_CASE("cp into and out of a stopped container never follows its links onto the host",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root (create copies owners)");
    Stopped c;
    test::TempDir host("cpt-host");
    // A host directory the container's links point at, with a file in it.
    const std::string marker = host / "marker";
    REQUIRE(fs::mkdir_p(marker));
    REQUIRE(fs::write_file_atomic(marker + "/keep", "original\n"));
    const auto marker_before = test::tree(marker);
    REQUIRE(fs::write_file_atomic(host / "f", "payload\n"));
    REQUIRE(fs::mkdir_p(c.rootfs + "/tmp"));
    REQUIRE(fs::mkdir_p(c.rootfs + "/data"));
    // /tmp/x -> the host's marker directory; /link -> it too (an intermediate component);
    // /up -> a ".." chain to it; /data/lnk -> the marker's file; /etc2 -> / (the "/etc -> /"
    // trick).
    REQUIRE(::symlink(marker.c_str(), (c.rootfs + "/tmp/x").c_str()) == 0);
    REQUIRE(::symlink(marker.c_str(), (c.rootfs + "/link").c_str()) == 0);
    const std::string chain = "../../../../../../../../../../.." + marker;
    REQUIRE(::symlink(chain.c_str(), (c.rootfs + "/up").c_str()) == 0);
    REQUIRE(::symlink((marker + "/keep").c_str(), (c.rootfs + "/data/lnk").c_str()) == 0);
    REQUIRE(::symlink("/", (c.rootfs + "/etc2").c_str()) == 0);

    // A symlink at the destination is replaced by the copy, not written through.
    auto r = c.sb.volt({"cp", host / "f", c.name + ":/tmp/x"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(S_ISREG(lstat_of(c.rootfs + "/tmp/x").st_mode));
    CHECK(fs::read_file(c.rootfs + "/tmp/x").value_or("") == "payload\n");
    // A symlink as an intermediate component, or a ".." chain, resolves inside the root: the
    // marker's path does not exist there, so there is nowhere to copy to.
    r = c.sb.volt({"cp", host / "f", c.name + ":/link/f"});
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    r = c.sb.volt({"cp", host / "f", c.name + ":/up/"});
    CHECK(r.code == 2);
    r = c.sb.volt({"cp", host / "f", c.name + ":/tmp/../../../../../../f"});
    CHECK(r.code == 0);  // ".." stops at the container's root: its /f
    CHECK(fs::read_file(c.rootfs + "/f").value_or("") == "payload\n");
    // Once the marker's path exists inside the root, the link leads there, and only there.
    REQUIRE(fs::mkdir_p(c.rootfs + marker));
    r = c.sb.volt({"cp", host / "f", c.name + ":/link/f"});
    CHECK(r.code == 0);
    CHECK(fs::read_file(c.rootfs + marker + "/f").value_or("") == "payload\n");
    r = c.sb.volt({"cp", host / "f", c.name + ":/etc2/etc/f"});
    CHECK(r.code == 0);
    CHECK(fs::exists(c.rootfs + "/etc/f"));

    // Out of the container: a link is copied as a link, never read through.
    r = c.sb.volt({"cp", c.name + ":/data", host / "out"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(S_ISLNK(lstat_of(host / "out/lnk").st_mode));
    // A source behind the links is the container's own, or missing.
    r = c.sb.volt({"cp", c.name + ":/up/keep", host / "stolen"});
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK_FALSE(fs::exists(host / "stolen"));
    r = c.sb.volt({"cp", c.name + ":/../../../../../../../etc/os-release", host / "os"});
    CHECK(r.code == 0);
    CHECK(fs::read_file(host / "os").value_or("") == "ID=volt-test\n");
    r = c.sb.volt({"cp", c.name + ":/etc2/etc/os-release", host / "os2"});
    CHECK(fs::read_file(host / "os2").value_or("") == "ID=volt-test\n");

    // The host's marker is as it was.
    CHECK(test::tree(marker) == marker_before);
    CHECK(fs::read_file(marker + "/keep").value_or("") == "original\n");
    CHECK_FALSE(temporaries_in(c.rootfs + "/tmp"));
}

TEST_CASE("cp keeps modes, owners, times, xattrs and links, and drops privileges on the way out",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root (foreign owners)");
    Stopped c;
    test::TempDir host("cpt-host");
    const std::string src = host / "tree";
    REQUIRE(fs::mkdir_p(src + "/d"));
    REQUIRE(fs::write_file_atomic(src + "/f", "setuid file\n"));
    REQUIRE(::chown((src + "/f").c_str(), 1234, 2345) == 0);
    REQUIRE(::chmod((src + "/f").c_str(), 04755) == 0);
    const bool xattrs = ::setxattr((src + "/f").c_str(), "user.volt", "v1", 2, 0) == 0;
    REQUIRE(::link((src + "/f").c_str(), (src + "/f2").c_str()) == 0);
    REQUIRE(::chown((src + "/d").c_str(), 7, 8) == 0);
    REQUIRE(::chmod((src + "/d").c_str(), 02750) == 0);
    REQUIRE(::symlink("/nowhere", (src + "/l").c_str()) == 0);
    REQUIRE(::mkfifo((src + "/p").c_str(), 0640) == 0);
    timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (src + "/f").c_str(), times, 0) == 0);
    REQUIRE(::utimensat(AT_FDCWD, (src + "/d").c_str(), times, 0) == 0);

    // In: into the existing directory / under its own name, every bit kept.
    auto r = c.sb.volt({"cp", src, c.name + ":/"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string in = c.rootfs + "/tree";
    struct stat f = lstat_of(in + "/f");
    CHECK((f.st_mode & 07777) == 04755);
    CHECK(f.st_uid == 1234);  // the idmapped root: on disk the ids the guest sees
    CHECK(f.st_gid == 2345);
    CHECK(f.st_mtim.tv_sec == 1000000000);
    CHECK(lstat_of(in + "/f2").st_ino == f.st_ino);
    if (xattrs)
        CHECK(xattr_of(in + "/f", "user.volt") == "v1");
    struct stat d = lstat_of(in + "/d");
    CHECK((d.st_mode & 07777) == 02750);
    CHECK((d.st_uid == 7 && d.st_gid == 8));
    CHECK(d.st_mtim.tv_sec == 1000000000);
    std::string target(64, '\0');
    target.resize(static_cast<size_t>(::readlink((in + "/l").c_str(), target.data(), 64)));
    CHECK(target == "/nowhere");
    CHECK(S_ISFIFO(lstat_of(in + "/p").st_mode));

    // Out: the same, but no setuid bit leaves the container (a directory keeps its setgid).
    r = c.sb.volt({"cp", c.name + ":/tree", host / "out"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.err.find("setuid/setgid bits") != std::string::npos);
    struct stat o = lstat_of(host / "out/f");
    CHECK((o.st_mode & 07777) == 0755);
    CHECK((o.st_uid == 1234 && o.st_gid == 2345));
    CHECK(o.st_mtim.tv_sec == 1000000000);
    CHECK(lstat_of(host / "out/f2").st_ino == o.st_ino);
    if (xattrs)
        CHECK(xattr_of(host / "out/f", "user.volt") == "v1");
    CHECK((lstat_of(host / "out/d").st_mode & 07777) == 02750);
    CHECK(S_ISLNK(lstat_of(host / "out/l").st_mode));

    // Replacing: a FIFO at the copy's name is renamed over, never opened (no hang).
    REQUIRE(::mkfifo((c.rootfs + "/tree/fifo").c_str(), 0644) == 0);
    r = c.sb.volt({"cp", src + "/f", c.name + ":/tree/fifo"});
    CHECK(r.code == 0);
    CHECK(S_ISREG(lstat_of(c.rootfs + "/tree/fifo").st_mode));
    // A directory is never merged into an existing one.
    r = c.sb.volt({"cp", src, c.name + ":/"});
    CHECK(r.code == 2);
    CHECK(r.err.find("does not merge") != std::string::npos);

    // An owner the container's namespace cannot hold fails the copy, and nothing of it stays.
    REQUIRE(fs::mkdir_p(host / "big/sub"));
    REQUIRE(fs::write_file_atomic(host / "big/sub/a", "a\n"));
    REQUIRE(fs::write_file_atomic(host / "big/z", "z\n"));
    REQUIRE(::chown((host / "big/z").c_str(), 70000, 0) == 0);
    const auto before = test::tree(c.rootfs);
    r = c.sb.volt({"cp", host / "big", c.name + ":/"});
    CHECK(r.code == 125);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("70000") != std::string::npos);
    CHECK(test::tree(c.rootfs) == before);
    CHECK_FALSE(temporaries_in(c.rootfs));
}

TEST_CASE("cp copies nothing of a proc the container's tree holds out to the host",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root (mounting a proc)");
    Stopped c;
    test::TempDir host("cpt-host");
    // As a guest could mount one of its own over any directory (this test runs in a mount
    // namespace of its own).
    const std::string proc = c.rootfs + "/data/p";
    REQUIRE(fs::mkdir_p(proc));
    REQUIRE(fs::write_file_atomic(c.rootfs + "/data/kept", "kept\n"));
    REQUIRE(::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{proc};

    auto r = c.sb.volt({"cp", c.name + ":/data", host / "out"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.find("/proc, /sys and the like") != std::string::npos);
    CHECK(fs::read_file(host / "out/kept").value_or("") == "kept\n");
    CHECK_FALSE(fs::exists(host / "out/p"));
    for (const char* path : {"/data/p", "/data/p/kcore", "/data/p/self", "/data/p/self/status"}) {
        INFO(path);
        r = c.sb.volt({"cp", c.name + ":" + path, host / "o"});
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK_FALSE(fs::exists(host / "o"));
    }
}

TEST_CASE("cp refuses bad operands in one line, with exit code 2", "[privileged]") {
    test::skip_unless(test::is_root(), "root (create copies owners)");
    Stopped c;
    test::TempDir host("cpt-host");
    REQUIRE(fs::write_file_atomic(host / "f", "x\n"));
    const auto before = test::tree(c.sb.root());
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"cp", "nope-cpt:/etc/os-release", host / "o"},    // unknown container
             {"cp", c.name + ":/missing", host / "o"},          // missing source
             {"cp", host / "missing", c.name + ":/"},           // missing host source
             {"cp", ":x", c.name + ":/"},                       // no name
             {"cp", "bad name:/x", host / "o"},                 // invalid name
             {"cp", c.name + ":", host / "o"},                  // no path
             {"cp", host / "f", host / "g"},                    // neither side
             {"cp", c.name + ":/etc", c.name + ":/tmp"},        // both sides
             {"cp", host / "f", c.name + ":/no/such/dir/f"},    // no directory there
             {"cp", host / "f", c.name + ":/etc/os-release/"},  // not a directory
             {"cp", c.name + ":/", host / "o"},                 // names no entry
             {"cp", host / "f"},                                // one operand
             // A directory into itself: the container's root below the source, or the host
             // destination below the container's source.
             {"cp", c.sb.root(), c.name + ":/x"},
             {"cp", c.name + ":/etc", c.rootfs + "/etc/sub"},
         }) {
        INFO(args[1] << " " << (args.size() > 2 ? args[2] : ""));
        auto r = c.sb.volt(args);
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.rfind("volt-run: ", 0) == 0);
    }
    CHECK_FALSE(fs::exists(host / "o"));
    CHECK_FALSE(fs::exists(host / "g"));
    CHECK(test::tree(c.sb.root()) == before);
}
