// End to end: an image imported from a tarball (written here from the busybox test root with
// libarchive's writer) boots as a container made with create --image NAME.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <map>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// Adds the tree below dir/rel to the archive: every entry with its stat (owners, modes, times),
// symlinks as links, hard links as links to the first path of their inode, file data.
void add_tree(archive* a, const std::string& dir, const std::string& rel,
              std::map<std::pair<dev_t, ino_t>, std::string>& links) {
    std::string path = rel.empty() ? dir : dir + "/" + rel;
    struct stat st;
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    archive_entry* e = archive_entry_new();
    archive_entry_copy_stat(e, &st);
    archive_entry_set_pathname(e, rel.empty() ? "./" : rel.c_str());
    bool data = S_ISREG(st.st_mode);
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
        auto [it, first] = links.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
        if (!first) {
            archive_entry_set_hardlink(e, it->second.c_str());
            archive_entry_set_size(e, 0);
            data = false;
        }
    }
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
        REQUIRE(n > 0);
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    }
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_entry_free(e);
    if (data) {
        auto content = fs::read_file(path);
        REQUIRE(content);
        if (!content->empty())
            REQUIRE(archive_write_data(a, content->data(), content->size()) ==
                    static_cast<la_ssize_t>(content->size()));
    }
    if (S_ISDIR(st.st_mode)) {
        auto names = fs::list_dir(path);
        REQUIRE(names);
        for (const auto& name : *names)
            add_tree(a, dir, rel.empty() ? name : rel + "/" + name, links);
    }
}

void tar_zst(const std::string& dir, const std::string& file) {
    archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_add_filter_zstd(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
    std::map<std::pair<dev_t, ino_t>, std::string> links;
    add_tree(a, dir, "", links);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
}

}  // namespace

TEST_CASE("an image imported from a busybox tarball boots with create --image NAME", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));  // built by the busybox-rootfs fixture
    test::Sandbox sb;
    test::TempDir scratch("imgt-e2e");
    std::string tarball = scratch / "busybox.tar.zst";
    tar_zst(test::busybox_rootfs(), tarball);

    auto r = sb.volt({"image", "import", tarball, "imgt-busybox"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto images = nlohmann::json::parse(sb.volt({"image", "list", "--json"}).out);
    REQUIRE(images.size() == 1);
    CHECK(images[0]["name"] == "imgt-busybox");
    CHECK(images[0]["size_bytes"].get<std::uint64_t>() > 0);

    std::string name = sb.unique_name("imgt-bb");
    r = sb.volt({"create", name, "--image", "imgt-busybox", "--network", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(sb.inspect(name)["spec"]["image"] == sb.root() + "/images/imgt-busybox");
    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(sb.inspect(name)["state"] == "running");
    r = sb.volt({"exec", name, "--", "sh", "-c", "echo hello; cat /etc/hostname"});
    CHECK(r.code == 0);
    CHECK(r.out.rfind("hello\n", 0) == 0);
    // The image's files, as the tarball held them, are the container's.
    CHECK(r.out.substr(6) == *fs::read_file(test::busybox_rootfs() + "/etc/hostname"));

    // rm while the container runs: it has its own copy.
    r = sb.volt({"image", "rm", "imgt-busybox"});
    CHECK(r.code == 0);
    CHECK(r.out.find(name) != std::string::npos);
    CHECK(sb.volt({"exec", name, "--", "true"}).code == 0);

    r = sb.volt({"stop", "--time", "20", name});
    INFO("stop: " << r.err);
    CHECK(r.code == 0);
    CHECK(sb.volt({"delete", name}).code == 0);
    CHECK(test::tree(sb.root() + "/images") == std::vector<std::string>{".lock"});
}
