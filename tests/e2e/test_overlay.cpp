// End to end: containers created with --rootfs overlay (the image as the read-only lower layer,
// the container's changes in its own upper directory) boot, exec, take cp both ways, get their
// resolv.conf, and leave their image and the host's mounts as they were.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/fs.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// Whether a mount of this mount namespace lies at or below path (/proc/self/mountinfo's fifth
// field).
bool mounted_below(const std::string& path) {
    auto info = fs::read_file("/proc/self/mountinfo");
    REQUIRE(info);
    std::istringstream in(*info);
    for (std::string line; std::getline(in, line);) {
        auto words = fs::words(std::string_view(line));
        if (words.size() > 4 && std::string(words[4]).starts_with(path))
            return true;
    }
    return false;
}

// The image name bb in the sandbox, imported from the busybox test root.
std::string import_busybox(const test::Sandbox& sb) {
    test::require_container_host();
    auto r = sb.volt({"image", "import", test::busybox_rootfs(), "bb"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return sb.root() + "/images/bb";
}

}  // namespace

TEST_CASE(
    "overlay: a busybox container boots and writes only to its upper layer and is deleted "
    "leaving the image and no mount",
    "[e2e]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    const auto image_before = test::tree(image);
    const std::string name = sb.unique_name("ovl");
    const std::string upper = sb.root() + "/containers/." + name + ".overlay/upper";
    // No Landlock policy for exec: the server policy keeps /root and /etc read-only.
    test::create_and_boot(sb, name, image, {"--rootfs", "overlay", "--landlock", "none"});
    CHECK(sb.inspect(name)["rootfs_mode"] == "overlay");
    CHECK(sb.inspect(name)["spec"]["rootfs"] == "overlay");
    CHECK(sb.volt({"list"}).out.find("overlay") != std::string::npos);
    // The mount is the boot's own: nothing of it reaches this (the host's) mount namespace.
    CHECK_FALSE(mounted_below(sb.root()));

    auto r =
        sb.volt({"exec", name, "--", "sh", "-c", "echo written > /root/note && cat /etc/passwd"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("root:") != std::string::npos);  // the image's file, read through the merge
    CHECK(fs::read_file(upper + "/root/note").value_or("") == "written\n");
    CHECK_FALSE(fs::exists(image + "/root/note"));
    // The guest's root owns it: the first id of the container's range, which the upper
    // directory's owner names (the lower layer is id-mapped to it).
    struct stat up {
    }, note{};
    REQUIRE(::stat(upper.c_str(), &up) == 0);
    REQUIRE(::stat((upper + "/root/note").c_str(), &note) == 0);
    CHECK(up.st_uid != 0);
    CHECK(note.st_uid == up.st_uid);
    // A file removed inside is a whiteout above, and still in the image.
    r = sb.volt({"exec", name, "--", "rm", "/etc/hostname"});
    CHECK(r.code == 0);
    CHECK(fs::exists(image + "/etc/hostname"));
    r = sb.volt({"exec", name, "--", "test", "-e", "/etc/hostname"});
    CHECK(r.code == 1);

    // cp into and out of the running container.
    test::TempDir host("ovl-host");
    REQUIRE(fs::write_file_atomic(host / "in", "from the host\n", 0644));
    r = sb.volt({"cp", host / "in", name + ":/root/in"});
    INFO(r.err);
    CHECK(r.code == 0);
    r = sb.volt({"exec", name, "--", "cat", "/root/in"});
    CHECK(r.out == "from the host\n");
    r = sb.volt({"cp", name + ":/root/note", host / "out"});
    CHECK(r.code == 0);
    CHECK(fs::read_file(host / "out").value_or("") == "written\n");
    // Its upper directory into it would be a directory copied into itself.
    r = sb.volt({"cp", sb.root() + "/containers/." + name + ".overlay", name + ":/root/"});
    CHECK(r.code == 2);

    r = sb.volt({"stop", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_FALSE(mounted_below(sb.root()));
    // The mount point on disk is empty while stopped.
    CHECK(test::tree(sb.root() + "/containers/" + name).empty());

    // cp of the stopped container: the merged tree, mounted detached for the copy.
    r = sb.volt({"cp", name + ":/root/note", host / "stopped-out"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::read_file(host / "stopped-out").value_or("") == "written\n");
    r = sb.volt({"cp", name + ":/etc/passwd", host / "passwd"});
    CHECK(r.code == 0);
    CHECK(fs::read_file(host / "passwd").value_or("") ==
          fs::read_file(image + "/etc/passwd").value_or("?"));
    r = sb.volt({"cp", host / "in", name + ":/root/in-stopped"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(fs::exists(upper + "/root/in-stopped"));
    CHECK_FALSE(fs::exists(image + "/root/in-stopped"));
    CHECK_FALSE(mounted_below(sb.root()));

    // Booted again, it sees what it wrote and what cp put there while it was stopped.
    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"exec", name, "--", "cat", "/root/note", "/root/in-stopped"});
    CHECK(r.out == "written\nfrom the host\n");

    r = sb.volt({"delete", "--force", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK_FALSE(fs::exists(sb.root() + "/containers/." + name + ".overlay"));
    CHECK_FALSE(fs::exists(sb.root() + "/containers/" + name));
    CHECK(test::tree(image) == image_before);
    CHECK_FALSE(mounted_below(sb.root()));
}

TEST_CASE("overlay: boot writes resolv.conf into the merged tree of a private network", "[e2e]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    const std::string name = sb.unique_name("ovr");
    test::create_and_boot(sb, name, image, {"--rootfs", "overlay", "--dns", "192.0.2.53"});
    auto r = sb.volt({"exec", name, "--", "cat", "/etc/resolv.conf"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("nameserver 192.0.2.53") != std::string::npos);
    CHECK(fs::exists(sb.root() + "/containers/." + name + ".overlay/upper/etc/resolv.conf"));
    // The image's own (if it has one) is not the container's.
    CHECK(fs::read_file(image + "/etc/resolv.conf").value_or("").find("192.0.2.53") ==
          std::string::npos);
}

TEST_CASE(
    "overlay: image rm is refused while an overlay container uses the image while a copy "
    "does not hold it",
    "[e2e]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    auto r = sb.volt({"create", "ovl-layered", "--image", "bb", "--rootfs", "overlay"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"create", "ovl-copied", "--image", "bb"});
    REQUIRE(r.code == 0);
    r = sb.volt({"image", "rm", "bb"});
    CHECK(r.code == 2);
    CHECK(r.err.find("ovl-layered") != std::string::npos);
    CHECK(r.err.find("ovl-copied") == std::string::npos);
    CHECK(fs::is_directory(image));
    REQUIRE(sb.volt({"delete", "ovl-layered"}).code == 0);
    r = sb.volt({"image", "rm", "bb"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_FALSE(fs::exists(image));
    REQUIRE(sb.volt({"delete", "ovl-copied"}).code == 0);
}

TEST_CASE(
    "overlay: a lower layer that is not an image under ROOT/images is refused and leaves "
    "nothing",
    "[e2e]") {
    test::Sandbox sb;
    import_busybox(sb);
    const auto before = test::tree(sb.root());
    auto r =
        sb.volt({"create", "ovl-stray", "--image", test::busybox_rootfs(), "--rootfs", "overlay"});
    CHECK(r.code == 2);
    CHECK(r.err.find("not an image under") != std::string::npos);
    CHECK(test::tree(sb.root()) == before);
    r = sb.volt({"create", "ovl-stray", "--image", "bb", "--rootfs", "bind"});
    CHECK(r.code == 2);
    CHECK(r.err == "volt-run: --rootfs: invalid value 'bind': expected copy or overlay\n");
    CHECK(test::tree(sb.root()) == before);
}

TEST_CASE("overlay: a systemd guest boots to READY with the default user namespace", "[e2e]") {
    test::Sandbox sb;
    test::require_container_host();
    auto r = sb.volt({"image", "import", test::debian_rootfs(), "bookworm"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string name = sb.unique_name("ovd");
    test::create_and_boot(sb, name, sb.root() + "/images/bookworm",
                          {"--rootfs", "overlay", "--network", "none"});
    r = sb.volt({"exec", name, "--", "cat", "/proc/self/uid_map"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    // Not the host's ids: the guest's 0 is another id outside.
    auto fields = fs::words(std::string_view(r.out));
    REQUIRE(fields.size() >= 3);
    CHECK(fields[0] == "0");
    CHECK(fields[1] != "0");
    r = sb.volt(
        {"exec", name, "--", "sh", "-c", "touch /var/ovl-test && stat -c %u /var/ovl-test"});
    CHECK(r.out == "0\n");
    // Only what the guest changed was copied up, not the image's 200 MB: nspawn found the root
    // already in the container's id range and chowned nothing.
    std::uint64_t files = 0;
    for (const auto& entry : test::tree(sb.root() + "/containers/." + name + ".overlay/upper")) {
        (void)entry;
        ++files;
    }
    CHECK(files < 2000);
    CHECK(test::tree(sb.root() + "/images/bookworm").size() > 5000);
}

TEST_CASE("overlay: bench --rootfs overlay times creates of overlays and leaves nothing",
          "[e2e][bench]") {
    test::require_container_host();
    test::Sandbox sb;  // the subreaper of what bench's boots leave
    test::TempDir tmp("ovl-bench");
    auto r = test::run(
        {test::volt_run_binary(), "bench", "--image", test::busybox_rootfs(), "--rootfs", "overlay",
         "--iterations", "2", "--json", "--stop-time", "1", "--network", "none"},
        {"TMPDIR=" + tmp.path()});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out.find("\"create\"") != std::string::npos);
    CHECK(r.err.find("lifecycle 2/2") != std::string::npos);
    // The scratch root (with the imported lower image and the upper layers) is gone, and no
    // overlay was ever mounted where this test sees it.
    CHECK(test::tree(tmp.path()).empty());
    CHECK_FALSE(mounted_below(tmp.path()));
}

TEST_CASE(
    "overlay: without a user namespace the lower layer is not id-mapped and the guest's "
    "root writes as the host's",
    "[e2e]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    const std::string name = sb.unique_name("ovn");
    const std::string upper = sb.root() + "/containers/." + name + ".overlay/upper";
    struct stat st {};
    REQUIRE(::stat(upper.c_str(), &st) != 0);
    test::create_and_boot(sb, name, image,
                          {"--rootfs", "overlay", "--no-private-users", "--landlock", "none"});
    REQUIRE(::stat(upper.c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
    auto r =
        sb.volt({"exec", name, "--", "sh", "-c", "echo x > /root/n && stat -c %u /etc/passwd"});
    INFO(r.err);
    CHECK(r.out == "0\n");
    REQUIRE(::stat((upper + "/root/n").c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
}

TEST_CASE(
    "overlay: a spec or images directory changed since create never makes another directory "
    "the lower layer and a volume cannot reach the data root",
    "[e2e]") {
    test::Sandbox sb;
    import_busybox(sb);
    auto r = sb.volt({"create", "ovl-t", "--image", "bb", "--rootfs", "overlay"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string spec_file = sb.root() + "/config/ovl-t/spec.json";
    const std::string original = *fs::read_file(spec_file);
    auto rewrite = [&](const std::function<void(nlohmann::json&)>& change) {
        auto spec = nlohmann::json::parse(original);
        change(spec);
        REQUIRE(fs::write_file_atomic(spec_file, spec.dump(), 0600).ok());
    };
    // A host directory put in as the image: neither cp nor boot mounts it.
    const std::string host = sb.dir() / "host";
    REQUIRE(fs::mkdir_p(host, 0700));
    REQUIRE(fs::write_file_atomic(host + "/secret", "host's\n", 0600).ok());
    rewrite([&](nlohmann::json& s) { s["image"] = host; });
    const std::string out = sb.dir() / "out";
    r = sb.volt({"cp", "ovl-t:/secret", out});
    CHECK(r.code != 0);
    CHECK(r.err.find("not an image under") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
    r = sb.volt({"boot", "--detach", "ovl-t"});
    CHECK(r.code != 0);
    CHECK(r.err.find("not an image under") != std::string::npos);
    CHECK_FALSE(mounted_below(sb.root()));
    // The images directory turned into a link to another directory: refused as well.
    rewrite([](nlohmann::json&) {});
    const std::string images = sb.root() + "/images";
    REQUIRE(::rename(images.c_str(), (images + ".real").c_str()) == 0);
    REQUIRE(::symlink((images + ".real").c_str(), images.c_str()) == 0);
    r = sb.volt({"cp", "ovl-t:/bin/busybox", out});
    CHECK(r.code != 0);
    CHECK_FALSE(fs::exists(out));
    REQUIRE(::unlink(images.c_str()) == 0);
    REQUIRE(::rename((images + ".real").c_str(), images.c_str()) == 0);
    // A spec this version cannot read: image rm cannot tell what it is layered on, and refuses.
    rewrite([](nlohmann::json& s) { s["version"] = 999; });
    r = sb.volt({"image", "rm", "bb"});
    CHECK(r.code == 2);
    CHECK(r.err.find("ovl-t has overlay layers but cannot be read") != std::string::npos);
    CHECK(fs::is_directory(images + "/bb"));
    rewrite([](nlohmann::json&) {});
    // A volume of the images (or anything in the data root) is refused at create and at boot.
    r = sb.volt({"create", "ovl-v", "--image", "bb", "--volume", images + "/bb:/mnt"});
    CHECK(r.code == 2);
    CHECK(r.err.find("in the data root") != std::string::npos);
    rewrite([&](nlohmann::json& s) {
        s["volumes"] = {{{"host", images + "/bb"},
                         {"container", "/mnt"},
                         {"read_only", false},
                         {"kind", "directory"},
                         {"idmap", true}}};
    });
    r = sb.volt({"boot", "--detach", "ovl-t"});
    CHECK(r.code == 2);
    CHECK(r.err.find("in the data root") != std::string::npos);
    rewrite([](nlohmann::json&) {});
    REQUIRE(sb.volt({"delete", "ovl-t"}).code == 0);
}

TEST_CASE(
    "overlay: what a killed systemd-nspawn leaves of an overlay run is removed by delete, its "
    "lock by the overlay's inode included",
    "[e2e][faults]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    const std::string name = sb.unique_name("ovl-kill");
    test::create_and_boot(sb, name, image, {"--rootfs", "overlay", "--network", "none"});
    // nspawn locks the root it was given by its inode: the overlay's, which is on a device of its
    // own (the mount's) and gone from every mount namespace once nspawn's has died.
    auto state = fs::read_file(sb.run_dir() + "/" + name + "/state.json");
    REQUIRE(state);
    const auto j = nlohmann::json::parse(*state);
    const std::string lock = "/run/systemd/nspawn/locks/inode-" +
                             std::to_string(j.value("root_dev", std::uint64_t{0})) + ":" +
                             std::to_string(j.value("root_ino", std::uint64_t{0}));
    INFO(lock);
    CHECK(fs::exists(lock));
    struct stat mount_point;
    REQUIRE(::stat((sb.root() + "/containers/" + name).c_str(), &mount_point) == 0);
    CHECK(static_cast<std::uint64_t>(mount_point.st_dev) != j.value("root_dev", std::uint64_t{0}));
    // While nspawn runs its lock is held: a collection leaves it.
    REQUIRE(fs::remove_lock_file(lock));
    CHECK(fs::exists(lock));

    test::kill_nspawn(sb, name);
    auto removed = sb.volt({"delete", "--force", "--time", "0", name});
    INFO(removed.err);
    CHECK(removed.code == 0);
    CHECK_FALSE(fs::exists(lock));
    CHECK_FALSE(fs::exists(sb.root() + "/containers/.#" + name + ".lck"));
    CHECK_FALSE(fs::exists("/run/systemd/nspawn/propagate/" + name));
    CHECK_FALSE(mounted_below(sb.root()));
}

TEST_CASE(
    "overlay: the guest's machine id, by which logs finds its journal, is read from the merged "
    "tree, stopped and running",
    "[e2e]") {
    test::Sandbox sb;
    const std::string image = import_busybox(sb);
    const std::string from_image = "0123456789abcdef0123456789abcdef";
    REQUIRE(fs::write_file_atomic(image + "/etc/machine-id", from_image + "\n", 0444));
    const std::string name = sb.unique_name("ovl-mid");
    auto r = sb.volt({"create", name, "--image", image, "--rootfs", "overlay", "--network", "none",
                      "--landlock", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const runtime::Paths paths = sb.paths();
    auto spec = runtime::load_spec(paths, name);
    REQUIRE(spec);
    // Stopped: the mount point on disk is empty; the image's file, through the overlay.
    CHECK(runtime::guest_machine_id(paths, *spec) == from_image);
    CHECK_FALSE(mounted_below(sb.root()));

    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(runtime::guest_machine_id(paths, *spec) == from_image);
    // The guest's own change, in its upper layer: seen running, and stopped.
    const std::string changed = "fedcba9876543210fedcba9876543210";
    r = sb.volt({"exec", name, "--", "sh", "-c", "echo " + changed + " > /etc/machine-id"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(runtime::guest_machine_id(paths, *spec) == changed);
    // Paused, its tree is read all the same (nothing of the guest has to run for it).
    r = sb.volt({"pause", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(runtime::guest_machine_id(paths, *spec) == changed);
    REQUIRE(sb.volt({"resume", name}).code == 0);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    CHECK(runtime::guest_machine_id(paths, *spec) == changed);
    // What is not a machine id is none.
    r = sb.volt({"cp", "/etc/hostname", name + ":/etc/machine-id"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(runtime::guest_machine_id(paths, *spec).empty());
    CHECK_FALSE(mounted_below(sb.root()));
}
