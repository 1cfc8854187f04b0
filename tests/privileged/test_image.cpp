// image import / list / rm through the real volt-run binary, with tarballs written here by
// libarchive's writer (no fixture from outside).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <clocale>
#include <cstring>
#include <nlohmann/json.hpp>
#include <tuple>

#include "base/fs.hpp"
#include "runtime/verbs/image.hpp"
#include "support.hpp"

using namespace volt;

namespace {

struct Entry {
    std::string path;
    mode_t type = AE_IFREG;  // AE_IF*
    mode_t perm = 0644;
    std::string data;
    std::string symlink;   // for AE_IFLNK
    std::string hardlink;  // a hard link to this path instead
    unsigned uid = 0, gid = 0;
    dev_t rdev = 0;
    time_t mtime = 1500000000;
    std::vector<std::pair<std::string, std::string>> xattrs;
};

Entry file(std::string path, std::string data, mode_t perm = 0644) {
    Entry e;
    e.path = std::move(path);
    e.data = std::move(data);
    e.perm = perm;
    return e;
}
Entry dir(std::string path, time_t mtime = 1500000000) {
    Entry e;
    e.path = std::move(path);
    e.type = AE_IFDIR;
    e.perm = 0755;
    e.mtime = mtime;
    return e;
}
Entry symlink_entry(std::string path, std::string target) {
    Entry e;
    e.path = std::move(path);
    e.type = AE_IFLNK;
    e.perm = 0777;
    e.symlink = std::move(target);
    return e;
}
Entry hardlink(std::string path, std::string target) {
    Entry e;
    e.path = std::move(path);
    e.hardlink = std::move(target);
    return e;
}
Entry node(std::string path, mode_t type, mode_t perm, dev_t rdev = 0) {
    Entry e;
    e.path = std::move(path);
    e.type = type;
    e.perm = perm;
    e.rdev = rdev;
    return e;
}

// Writes entries as a pax archive through `filter` (ARCHIVE_FILTER_NONE, _GZIP, _XZ, _ZSTD).
void write_archive(const std::string& file, const std::vector<Entry>& entries,
                   int filter = ARCHIVE_FILTER_NONE) {
    archive* a = archive_write_new();
    REQUIRE(a);
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_add_filter(a, filter) == ARCHIVE_OK);
    REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
    for (const Entry& e : entries) {
        archive_entry* ae = archive_entry_new();
        archive_entry_set_pathname(ae, e.path.c_str());
        if (!e.hardlink.empty()) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e.hardlink.c_str());
        } else {
            archive_entry_set_filetype(ae, e.type);
        }
        archive_entry_set_perm(ae, e.perm);
        archive_entry_set_uid(ae, e.uid);
        archive_entry_set_gid(ae, e.gid);
        archive_entry_set_mtime(ae, e.mtime, 0);
        if (e.type == AE_IFLNK)
            archive_entry_set_symlink(ae, e.symlink.c_str());
        if (e.type == AE_IFCHR || e.type == AE_IFBLK) {
            archive_entry_set_rdevmajor(ae, major(e.rdev));
            archive_entry_set_rdevminor(ae, minor(e.rdev));
        }
        for (const auto& [k, v] : e.xattrs)
            archive_entry_xattr_add_entry(ae, k.c_str(), v.data(), v.size());
        bool has_data = e.type == AE_IFREG && e.hardlink.empty();
        archive_entry_set_size(ae, has_data ? static_cast<la_int64_t>(e.data.size()) : 0);
        REQUIRE(archive_write_header(a, ae) == ARCHIVE_OK);
        if (has_data && !e.data.empty())
            REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
                    static_cast<la_ssize_t>(e.data.size()));
        archive_entry_free(ae);
    }
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
}

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

std::string xattr(const std::string& path, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
    return n < 0 ? std::string("<") + std::strerror(errno) + ">"
                 : std::string(buf, static_cast<size_t>(n));
}

size_t lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// A file capability (struct vfs_cap_data, revision 2): cap_net_bind_service permitted and
// effective.
std::string net_bind_capability() {
    std::uint32_t words[5] = {0x02000000 | 0x1 /* VFS_CAP_FLAGS_EFFECTIVE */, 1u << 10, 0, 0, 0};
    return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

std::vector<Entry> rich_tree() {
    Entry su = file("usr/bin/su", "#!/bin/true\n", 04755);
    su.uid = 1234;
    su.gid = 5678;
    su.mtime = 1000000000;
    Entry ping = file("usr/bin/ping", "ping", 0755);
    ping.mtime = 1100000000;
    ping.xattrs = {{"user.volt", "v1"}, {"security.capability", net_bind_capability()}};
    return {
        dir("./"),
        dir("etc", 1200000000),
        file("usr/lib/os-release", "NAME=Volt\nPRETTY_NAME=\"Volt Test 1\"\n"),
        symlink_entry("etc/os-release", "../usr/lib/os-release"),
        su,
        ping,
        hardlink("usr/bin/ping6", "usr/bin/ping"),
        node("dev/null", AE_IFCHR, 0666, makedev(1, 3)),
        node("run/fifo", AE_IFIFO, 0600),
    };
}

void check_rich_tree(const std::string& img) {
    CHECK(*fs::read_file(img + "/usr/lib/os-release") ==
          "NAME=Volt\nPRETTY_NAME=\"Volt Test 1\"\n");
    auto su = lstat_of(img + "/usr/bin/su");
    CHECK((su.st_mode & 07777) == 04755);
    CHECK(su.st_uid == 1234);
    CHECK(su.st_gid == 5678);
    CHECK(su.st_mtim.tv_sec == 1000000000);
    auto ping = lstat_of(img + "/usr/bin/ping");
    CHECK(xattr(img + "/usr/bin/ping", "user.volt") == "v1");
    CHECK(xattr(img + "/usr/bin/ping", "security.capability") == net_bind_capability());
    CHECK(ping.st_mtim.tv_sec == 1100000000);
    CHECK(lstat_of(img + "/usr/bin/ping6").st_ino == ping.st_ino);
    CHECK(ping.st_nlink == 2);
    auto null = lstat_of(img + "/dev/null");
    CHECK(S_ISCHR(null.st_mode));
    CHECK(null.st_rdev == makedev(1, 3));
    CHECK((null.st_mode & 07777) == 0666);
    CHECK(S_ISFIFO(lstat_of(img + "/run/fifo").st_mode));
    auto link = lstat_of(img + "/etc/os-release");
    CHECK(S_ISLNK(link.st_mode));
    CHECK(lstat_of(img + "/etc").st_mtim.tv_sec == 1200000000);
}

// Nothing of image `name` exists, complete or staged.
void check_no_image(const test::Sandbox& sb, const std::string& name) {
    std::string images = sb.root() + "/images";
    CHECK_FALSE(fs::exists(images + "/" + name));
    CHECK_FALSE(fs::exists(images + "/." + name + ".partial"));
    CHECK_FALSE(fs::exists(images + "/." + name + ".json"));
    CHECK_FALSE(fs::exists(images + "/." + name + ".lock"));
    CHECK_FALSE(fs::exists(images + "/." + name + ".removing"));
}

}  // namespace

TEST_CASE(
    "image import: tar and tar.gz and tar.xz and tar.zst keep modes and owners and times and "
    "xattrs and device nodes and links - list shows them and rm removes them",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root (owners, device nodes, file capabilities)");
    test::Sandbox sb;
    test::TempDir scratch("imgt-archives");
    struct Kind {
        const char* suffix;
        int filter;
        const char* name;
    };
    for (Kind k : {Kind{"tar", ARCHIVE_FILTER_NONE, "imgt-tar"},
                   Kind{"tar.gz", ARCHIVE_FILTER_GZIP, "imgt-targz"},
                   Kind{"tar.xz", ARCHIVE_FILTER_XZ, "imgt-tarxz"},
                   Kind{"tar.zst", ARCHIVE_FILTER_ZSTD, "imgt-tarzst"}}) {
        INFO(k.suffix);
        std::string archive = scratch / (std::string("rich.") + k.suffix);
        write_archive(archive, rich_tree(), k.filter);
        std::string name = k.name;
        auto r = sb.volt({"image", "import", archive, name});
        INFO(r.err);
        REQUIRE(r.code == 0);
        check_rich_tree(sb.root() + "/images/" + name);
        CHECK_FALSE(fs::exists(sb.root() + "/images/." + name + ".partial"));
    }

    auto listed = sb.volt({"image", "list"});
    REQUIRE(listed.code == 0);
    CHECK(listed.out.find("NAME") == 0);
    CHECK(listed.out.find("imgt-tar ") != std::string::npos);
    CHECK(listed.out.find("Volt Test 1") != std::string::npos);

    auto json = sb.volt({"image", "list", "--json"});
    REQUIRE(json.code == 0);
    auto arr = nlohmann::json::parse(json.out);
    REQUIRE(arr.size() == 4);
    for (const auto& i : arr) {
        INFO(i.dump());
        CHECK(i["name"].get<std::string>().starts_with("imgt-"));
        CHECK(i["os"] == "Volt Test 1");
        CHECK(i["size_bytes"].get<std::uint64_t>() > 0);
        // An RFC 3339 UTC time: "2026-12-03T07:15:21Z".
        std::string created = i["created"].get<std::string>();
        CHECK(created.size() == 20);
        CHECK(created.back() == 'Z');
        CHECK(i["source"].get<std::string>().find(scratch.path()) == 0);
    }

    // An existing name is refused, and the image left as it is.
    auto again = sb.volt({"image", "import", scratch / "rich.tar", "imgt-tar"});
    CHECK(again.code == 2);
    CHECK(again.err.find("already exists") != std::string::npos);
    check_rich_tree(sb.root() + "/images/imgt-tar");

    for (const char* name : {"imgt-tar", "imgt-targz", "imgt-tarxz", "imgt-tarzst"}) {
        INFO(name);
        auto rm = sb.volt({"image", "rm", name});
        INFO(rm.err);
        CHECK(rm.code == 0);
        check_no_image(sb, name);
    }
    CHECK(nlohmann::json::parse(sb.volt({"image", "list", "--json"}).out).empty());
    auto gone = sb.volt({"image", "rm", "imgt-tar"});
    CHECK(gone.code == 2);
    CHECK(lines(gone.err) == 1);
}

TEST_CASE(
    "image import: hostile archives are refused or stay inside the image - the host's "
    "files are untouched",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-hostile");
    test::TempDir host("imgt-host");  // stands for the host: nothing may change below it
    std::string marker = host / "marker";
    REQUIRE(fs::write_file_atomic(marker, "host\n").ok());
    struct stat passwd_before = lstat_of("/etc/passwd");
    std::string rel_up = "../../../../../../../../..";

    struct Refused {
        const char* what;
        std::vector<Entry> entries;
        std::string named;  // the entry the error names
    };
    std::vector<Refused> refused = {
        {"absolute path", {file(marker, "pwned\n")}, marker},
        {"../ path", {file(rel_up + marker, "pwned\n")}, rel_up + marker},
        {"../ inside a path", {file("etc/../../x", "pwned\n")}, "etc/../../x"},
        {"hard link to /etc/passwd", {hardlink("passwd", "/etc/passwd")}, "passwd"},
        {"hard link up and out", {hardlink("passwd", rel_up + "/etc/passwd")}, "passwd"},
    };
    for (const auto& c : refused) {
        INFO(c.what);
        std::string hostile = scratch / "hostile.tar";
        write_archive(hostile, c.entries);
        auto r = sb.volt({"image", "import", hostile, "imgt-bad"});
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.find(c.named) != std::string::npos);
        check_no_image(sb, "imgt-bad");
    }

    // A symlink out of the image, then entries written through it: they land inside the image,
    // where the guest would see them (RESOLVE_IN_ROOT), never in the host's directory.
    std::string through = scratch / "through.tar";
    // The host directory's path exists in the image too, so that the links lead somewhere.
    write_archive(through, {
                               dir(host.path().substr(1)),
                               symlink_entry("a", host.path()),
                               file("a/marker", "pwned\n"),
                               symlink_entry("b", rel_up + host.path()),
                               file("b/marker2", "pwned\n"),
                               symlink_entry("c", marker),
                               file("c", "replaced, not followed\n"),
                               hardlink("d", "a/marker"),
                               file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                               symlink_entry("e", "/etc"),
                               hardlink("h", "e/passwd"),
                           });
    auto r = sb.volt({"image", "import", through, "imgt-through"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string img = sb.root() + "/images/imgt-through";
    CHECK(*fs::read_file(img + host.path() + "/marker") == "pwned\n");
    CHECK(*fs::read_file(img + host.path() + "/marker2") == "pwned\n");
    CHECK(*fs::read_file(img + "/c") == "replaced, not followed\n");
    CHECK(lstat_of(img + "/d").st_ino == lstat_of(img + host.path() + "/marker").st_ino);
    CHECK(lstat_of(img + "/h").st_ino == lstat_of(img + "/etc/passwd").st_ino);
    // The host is as it was.
    CHECK(*fs::read_file(marker) == "host\n");
    CHECK(lstat_of(marker).st_nlink == 1);
    CHECK(test::tree(host.path()) == std::vector<std::string>{"marker"});
    // A link that leads out of the image, to a directory the image lacks: refused.
    write_archive(through, {symlink_entry("out", host.path() + "/sub"), file("out/x", "pwned\n")});
    r = sb.volt({"image", "import", through, "imgt-out"});
    CHECK(r.code == 2);
    CHECK(r.err.find("out/x") != std::string::npos);
    check_no_image(sb, "imgt-out");
    CHECK(test::tree(host.path()) == std::vector<std::string>{"marker"});

    struct stat passwd_after = lstat_of("/etc/passwd");
    CHECK(passwd_after.st_nlink == passwd_before.st_nlink);
    CHECK(passwd_after.st_mtim.tv_sec == passwd_before.st_mtim.tv_sec);
    CHECK(passwd_after.st_ino == passwd_before.st_ino);
    REQUIRE(sb.volt({"image", "rm", "imgt-through"}).code == 0);
    CHECK(*fs::read_file(marker) == "host\n");
    CHECK(fs::exists("/etc/passwd"));
}

TEST_CASE("image import: a corrupt or truncated archive leaves nothing behind", "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-corrupt");
    std::vector<Entry> big = rich_tree();
    std::string blob(256 << 10, '\0');
    for (std::size_t i = 0; i < blob.size(); ++i)
        blob[i] = static_cast<char>((i * 2654435761u) >> 13);  // does not compress away
    big.push_back(file("usr/share/blob", blob));
    big.push_back(file("usr/share/after", "after\n"));
    for (int filter : {ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD}) {
        INFO("filter " << filter);
        std::string whole = scratch / "whole";
        write_archive(whole, big, filter);
        auto data = fs::read_file(whole);
        REQUIRE(data);
        std::string cut = scratch / "cut";
        REQUIRE(fs::write_file_atomic(cut, data->substr(0, data->size() * 2 / 3)).ok());
        auto r = sb.volt({"image", "import", cut, "imgt-cut"});
        INFO(r.err);
        CHECK(r.code != 0);
        CHECK(r.code != 1);  // an error volt-run reports, not a crash
        CHECK(lines(r.err) == 1);
        check_no_image(sb, "imgt-cut");
    }
    for (std::string garbage : {std::string("this is no archive\n"), std::string(),
                                std::string("\x1f\x8b\x08\x00garbage", 12)}) {
        std::string junk = scratch / "garbage";
        REQUIRE(fs::write_file_atomic(junk, garbage).ok());
        auto r = sb.volt({"image", "import", junk, "imgt-garbage"});
        INFO(r.err);
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        check_no_image(sb, "imgt-garbage");
    }
    // A stale staging directory (a killed import) is removed by the next import of the name.
    REQUIRE(fs::mkdir_p(sb.root() + "/images/.imgt-stale.partial/junk").ok());
    write_archive(scratch / "ok.tar", rich_tree());
    auto r = sb.volt({"image", "import", scratch / "ok.tar", "imgt-stale"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(sb.root() + "/images/.imgt-stale.partial"));
    CHECK_FALSE(fs::exists(sb.root() + "/images/imgt-stale/junk"));
    REQUIRE(sb.volt({"image", "rm", "imgt-stale"}).code == 0);
}

TEST_CASE("image: bad names are refused in one line with exit 2 and nothing is made",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir scratch("imgt-names");
    write_archive(scratch / "ok.tar", {file("etc/hostname", "x\n")});
    for (std::string bad :
         {std::string("../x"), std::string(".hidden"), std::string("a/b"), std::string(""),
          std::string("x\ny"), std::string(65, 'n'), std::string(".x.partial")}) {
        INFO(bad);
        for (auto args : {std::vector<std::string>{"image", "import", scratch / "ok.tar", bad},
                          std::vector<std::string>{"image", "rm", bad}}) {
            auto r = sb.volt(args);
            INFO(r.err);
            CHECK(r.code == 2);
            CHECK(lines(r.err) == 1);
            CHECK(r.err.find("image name") != std::string::npos);
        }
    }
    auto missing = sb.volt({"image", "import", scratch / "missing.tar", "imgt-x"});
    CHECK(missing.code == 2);
    CHECK(missing.err.find("missing.tar") != std::string::npos);
    auto nothing = sb.volt({"image"});
    CHECK(nothing.code == 2);
    CHECK(lines(nothing.err) == 1);
    CHECK(test::tree(sb.root() + "/images").size() <= 1);  // at most the lock file
    CHECK_FALSE(fs::exists(sb.root() + "/images/imgt-x"));
}

TEST_CASE(
    "image import DIR keeps device nodes - list shows hand-made images and reads their "
    "os-release inside the image - create --image NAME works and survives image rm",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root (device nodes)");
    test::Sandbox sb;
    test::TempDir src("imgt-dir");
    REQUIRE(fs::mkdir_p(src / "etc").ok());
    REQUIRE(fs::mkdir_p(src / "dev").ok());
    REQUIRE(fs::write_file_atomic(src / "etc/os-release", "PRETTY_NAME='Dir OS'\n").ok());
    REQUIRE(::mknod((src / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    auto r = sb.volt({"image", "import", src.path(), "imgt-dir"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string img = sb.root() + "/images/imgt-dir";
    CHECK(lstat_of(img + "/dev/null").st_rdev == makedev(1, 3));

    // By hand: no creation time; an os-release that points at the host's is read inside the
    // image, where it leads nowhere.
    std::string hand = sb.root() + "/images/imgt-hand";
    REQUIRE(fs::mkdir_p(hand + "/etc").ok());
    REQUIRE(::symlink("/etc/os-release", (hand + "/etc/os-release").c_str()) == 0);
    REQUIRE(fs::mkdir_p(hand + "/usr/lib").ok());
    REQUIRE(::symlink("../../../../../../../etc/os-release",
                      (hand + "/usr/lib/os-release").c_str()) == 0);
    auto arr = nlohmann::json::parse(sb.volt({"image", "list", "--json"}).out);
    REQUIRE(arr.size() == 2);
    CHECK(arr[0]["name"] == "imgt-dir");
    CHECK(arr[0]["os"] == "Dir OS");
    CHECK(arr[1]["name"] == "imgt-hand");
    CHECK(arr[1]["os"].is_null());
    CHECK(arr[1]["created"].is_null());

    // create --image NAME copies it; rm leaves that container working (it has its own copy).
    std::string name = sb.unique_name("imgt-c");
    auto c = sb.volt({"create", name, "--image", "imgt-dir", "--network", "none"});
    INFO(c.err);
    REQUIRE(c.code == 0);
    CHECK(sb.inspect(name)["spec"]["image"] == img);
    auto rm = sb.volt({"image", "rm", "imgt-dir"});
    INFO(rm.err);
    CHECK(rm.code == 0);
    CHECK(rm.out.find(name) != std::string::npos);  // it names the container that keeps working
    CHECK_FALSE(fs::exists(img));
    CHECK(*fs::read_file(sb.root() + "/containers/" + name + "/etc/os-release") ==
          "PRETTY_NAME='Dir OS'\n");
    CHECK(sb.volt({"delete", name}).code == 0);
    CHECK(sb.volt({"image", "rm", "imgt-hand"}).code == 0);
    CHECK(fs::exists("/etc/os-release"));
}

TEST_CASE(
    "image import killed (SIGKILL) before its rename leaves only a staging directory - "
    "the next import of the name removes it",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-killed");
    write_archive(scratch / "rich.tar", rich_tree());
    auto killed = sb.volt({"image", "import", scratch / "rich.tar", "imgt-killed"},
                          {"VOLT_FAULT=image-import:rename"});
    CHECK(killed.code == 128 + SIGKILL);
    CHECK(fs::exists(sb.root() + "/images/.imgt-killed.partial"));
    CHECK_FALSE(fs::exists(sb.root() + "/images/imgt-killed"));
    // Not listed, and not an image create finds.
    CHECK(nlohmann::json::parse(sb.volt({"image", "list", "--json"}).out).empty());
    CHECK(sb.volt({"create", sb.unique_name("imgt-k"), "--image", "imgt-killed"}).code == 2);
    auto staged = sb.volt({"create", sb.unique_name("imgt-k"), "--image", ".imgt-killed.partial"});
    CHECK(staged.code == 2);
    CHECK(staged.err.find("invalid image name") != std::string::npos);
    auto r = sb.volt({"image", "import", scratch / "rich.tar", "imgt-killed"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    check_rich_tree(sb.root() + "/images/imgt-killed");
    CHECK_FALSE(fs::exists(sb.root() + "/images/.imgt-killed.partial"));
    REQUIRE(sb.volt({"image", "rm", "imgt-killed"}).code == 0);
    check_no_image(sb, "imgt-killed");
}

TEST_CASE("image import interrupted by SIGTERM removes what it staged and fails", "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-term");
    write_archive(scratch / "rich.tar", rich_tree());
    REQUIRE(fs::mkdir_p(scratch / "dir/etc").ok());
    struct sigaction before {};
    REQUIRE(::sigaction(SIGTERM, nullptr, &before) == 0);
    runtime::Paths paths = sb.paths();
    // The signal arrives while the import runs (at its extraction point), as a Ctrl-C would.
    paths.fault = [](std::string_view point) {
        if (point == "image-import:extract")
            ::raise(SIGTERM);
        return Status();
    };
    for (std::string source : {scratch / "rich.tar", scratch / "dir"}) {
        INFO(source);
        auto r = runtime::import_image(paths, source, "imgt-term");
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == EINTR);
        check_no_image(sb, "imgt-term");
    }
    // The handler is gone with the import: SIGTERM is back to what it was.
    struct sigaction now {};
    REQUIRE(::sigaction(SIGTERM, nullptr, &now) == 0);
    CHECK(now.sa_handler == before.sa_handler);
    paths.fault = {};
    auto ok = runtime::import_image(paths, scratch / "rich.tar", "imgt-term");
    INFO((ok ? std::string() : ok.error().describe()));
    REQUIRE(ok);
    check_rich_tree(sb.root() + "/images/imgt-term");
}

TEST_CASE(
    "image: a second import of a name is refused while one runs - rm waits for a copy "
    "of the image",
    "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-race");
    write_archive(scratch / "rich.tar", rich_tree());
    std::string images = sb.root() + "/images";
    REQUIRE(fs::mkdir_p(images + "/.imgt-race.partial/busy").ok());
    {
        // An import of imgt-race at work: it holds the name's lock.
        auto running = fs::FileLock::acquire(images + "/.imgt-race.lock");
        REQUIRE(running);
        auto r = sb.volt({"image", "import", scratch / "rich.tar", "imgt-race"});
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.find("another import") != std::string::npos);
        // Its staging directory is left to it.
        CHECK(fs::exists(images + "/.imgt-race.partial/busy"));
    }
    auto r = sb.volt({"image", "import", scratch / "rich.tar", "imgt-race"});
    INFO(r.err);
    REQUIRE(r.code == 0);

    // A copy in progress (what create holds while it copies an image from ROOT/images).
    auto held = runtime::hold_image(sb.paths(), images + "/imgt-race");
    REQUIRE(held);
    REQUIRE(held->valid());
    test::Background rm(sb, {"image", "rm", "imgt-race"});
    CHECK_FALSE(rm.wait(300));  // still waiting for the copy
    CHECK(fs::exists(images + "/imgt-race/usr/bin/su"));
    held->reset();
    CHECK(rm.wait(30000) == std::optional<int>(0));
    check_no_image(sb, "imgt-race");
    CHECK_FALSE(runtime::hold_image(sb.paths(), "/elsewhere/image")->valid());
}

TEST_CASE("image import: names that are not ASCII (pax UTF-8 records) keep their bytes",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::Sandbox sb;
    test::TempDir scratch("imgt-utf8");
    std::string file = scratch / "utf8.tar";
    // libarchive's pax writer needs a UTF-8 locale for such names; volt-run reads them in
    // whatever locale it runs in (it never calls setlocale: the C locale, as here).
    std::string old_locale = std::setlocale(LC_ALL, nullptr);
    test::skip_unless(std::setlocale(LC_ALL, "C.UTF-8") != nullptr, "the C.UTF-8 locale");
    archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
    for (auto [name, type, target] : {std::tuple{"etc/caf\xc3\xa9", AE_IFREG, ""},
                                      std::tuple{"etc/\xe2\x86\x92", AE_IFLNK, "caf\xc3\xa9"}}) {
        archive_entry* e = archive_entry_new();
        archive_entry_update_pathname_utf8(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, 0644);
        if (type == AE_IFLNK)
            archive_entry_update_symlink_utf8(e, target);
        archive_entry_set_size(e, 0);
        REQUIRE(archive_write_header(a, e) >= ARCHIVE_WARN);
        archive_entry_free(e);
    }
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    std::setlocale(LC_ALL, old_locale.c_str());
    auto r = sb.volt({"image", "import", file, "imgt-utf8"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string img = sb.root() + "/images/imgt-utf8";
    CHECK(S_ISREG(lstat_of(img + "/etc/caf\xc3\xa9").st_mode));
    char target[64] = {};
    CHECK(::readlink((img + "/etc/\xe2\x86\x92").c_str(), target, sizeof target - 1) == 5);
    CHECK(std::string(target) == "caf\xc3\xa9");
}
