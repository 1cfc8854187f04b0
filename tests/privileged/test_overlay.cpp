// The overlay of --rootfs overlay (rootfs/overlay.hpp) without a container: layers given as fds
// whatever their names hold, writes that land in upper only, an id-mapped lower layer, and a
// detached mount that no mount namespace shows.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "base/fs.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/rootfs/overlay.hpp"
#include "support.hpp"

using namespace volt;

namespace {

UniqueFd dir_fd(const std::string& path) {
    int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    return UniqueFd(fd);
}

// Whether a mount of this mount namespace mentions text (its mount point or its options).
bool mountinfo_mentions(const std::string& text) {
    auto info = fs::read_file("/proc/self/mountinfo");
    REQUIRE(info);
    return info->find(text) != std::string::npos;
}

void require_overlay() {
    test::skip_unless(test::is_root(), "root (CAP_SYS_ADMIN, for overlayfs)");
    test::skip_unless(rootfs::probe_overlay().ok(),
                      "overlayfs with directory-fd layers (Linux 6.13)");
}

}  // namespace

TEST_CASE(
    "overlay: layers whose paths hold option separators mount as given and detached with "
    "writes in upper only",
    "[privileged]") {
    require_overlay();
    test::TempDir dir("ovl-layers");
    // Each name would split a lowerdir= string into more layers or options.
    const std::string lower = dir / "lower,upperdir=x:y\\z";
    const std::string layers = dir / "l:a,y=ers";
    REQUIRE(fs::mkdir_p(lower + "/etc"));
    REQUIRE(fs::write_file_atomic(lower + "/etc/os-release", "ID=test\n", 0644));
    REQUIRE(::symlink("/etc/os-release", (lower + "/link").c_str()) == 0);
    REQUIRE(fs::mkdir_p(layers + "/upper"));
    REQUIRE(fs::mkdir_p(layers + "/work"));
    auto l = dir_fd(lower), u = dir_fd(layers + "/upper"), w = dir_fd(layers + "/work");
    auto merged = rootfs::mount_overlay(l.get(), u.get(), w.get(), 0);
    INFO((merged ? std::string() : merged.error().describe()));
    REQUIRE(merged.ok());
    CHECK_FALSE(mountinfo_mentions(dir.path()));  // detached: in no mount namespace

    auto root = rootfs::ContainerRoot::of_fd(merged->get(), "merged");
    REQUIRE(root.ok());
    CHECK(root->read_file("/etc/os-release", 100).value_or("") == "ID=test\n");
    // An absolute symlink of the lower layer resolves inside the merged root, not on the host.
    CHECK(root->resolve("/link").value_or("") == "/etc/os-release");
    REQUIRE(root->write_file("/etc", "resolv.conf", "nameserver 192.0.2.1\n", 0644).ok());
    CHECK(fs::read_file(layers + "/upper/etc/resolv.conf").value_or("") ==
          "nameserver 192.0.2.1\n");
    CHECK_FALSE(fs::exists(lower + "/etc/resolv.conf"));
    CHECK(test::tree(lower) == std::vector<std::string>{"etc", "etc/os-release", "link"});
}

TEST_CASE("overlay: an id-mapped lower layer shows the image's ids shifted into the range",
          "[privileged]") {
    require_overlay();
    test::skip_unless(rootfs::probe_idmap("/var/tmp").ok(), "id-mapped mounts on /var/tmp");
    test::TempDir dir("ovl-idmap");
    const std::string lower = dir / "lower";
    REQUIRE(fs::mkdir_p(lower));
    REQUIRE(fs::write_file_atomic(lower + "/f", "x", 0644));
    REQUIRE(::chown((lower + "/f").c_str(), 33, 44) == 0);
    REQUIRE(fs::mkdir_p(dir / "upper"));
    REQUIRE(fs::mkdir_p(dir / "work"));
    const uid_t shift = rootfs::pick_shift("ovl-idmap");
    CHECK(rootfs::valid_shift(shift));
    auto l = dir_fd(lower), u = dir_fd(dir / "upper"), w = dir_fd(dir / "work");
    auto merged = rootfs::mount_overlay(l.get(), u.get(), w.get(), shift);
    INFO((merged ? std::string() : merged.error().describe()));
    REQUIRE(merged.ok());
    struct stat st {};
    REQUIRE(::fstatat(merged->get(), "f", &st, AT_SYMLINK_NOFOLLOW) == 0);
    CHECK(st.st_uid == shift + 33);
    CHECK(st.st_gid == shift + 44);
    // The image itself is untouched.
    REQUIRE(::lstat((lower + "/f").c_str(), &st) == 0);
    CHECK(st.st_uid == 33);
}

TEST_CASE("overlay: the shift is stable for a name and only valid ranges are valid",
          "[privileged]") {
    CHECK(rootfs::pick_shift("web") == rootfs::pick_shift("web"));
    CHECK(rootfs::valid_shift(rootfs::pick_shift("web")));
    // A range another container's root already has is skipped (nspawn would chown otherwise).
    const uid_t first = rootfs::pick_shift("web");
    const uid_t other = rootfs::pick_shift("web", {first});
    CHECK(other != first);
    CHECK(rootfs::valid_shift(other));
    CHECK_FALSE(rootfs::valid_shift(0));
    CHECK_FALSE(rootfs::valid_shift(rootfs::kShiftMin + 1));
    CHECK_FALSE(rootfs::valid_shift(rootfs::kShiftMax + rootfs::kIdRange));
}
