// End to end: the device policy of a booted container (issue 13, finding 1). A host block device
// (a loop device bound to a scratch file holding "secret") is out of reach of the guest, whether
// its node was planted in the root file system or made by the guest with mknod; /dev/null works;
// --device gives one device to the container.
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

class ScratchLoop {
  public:
    ScratchLoop() {
        test::skip_unless(::access("/dev/loop-control", W_OK) == 0,
                          "loop devices (/dev/loop-control)");
        REQUIRE(fs::write_file_atomic(dir_ / "backing", "secret" + std::string(4090, 'x')).ok());
        int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        REQUIRE(ctl >= 0);
        number_ = ::ioctl(ctl, LOOP_CTL_GET_FREE);
        ::close(ctl);
        REQUIRE(number_ >= 0);
        fd_ = ::open(path().c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(fd_ >= 0);
        int backing = ::open((dir_ / "backing").c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(backing >= 0);
        int r = ::ioctl(fd_, LOOP_SET_FD, backing);
        ::close(backing);
        REQUIRE(r == 0);
    }
    ~ScratchLoop() {
        ::ioctl(fd_, LOOP_CLR_FD, 0);
        ::close(fd_);
    }
    int number() const { return number_; }
    std::string path() const { return "/dev/loop" + std::to_string(number_); }

  private:
    test::TempDir dir_;
    int number_ = -1;
    int fd_ = -1;
};

// Creates and boots a busybox container; the node b 7:N is planted at /var/evil in its root file
// system first, as an image's node was copied before create stopped copying them.
std::string boot_with_planted_node(test::Sandbox& sb, const ScratchLoop& loop,
                                   const std::string& base, std::vector<std::string> extra) {
    std::string name = sb.unique_name(base);
    std::vector<std::string> create = {"create",    name,  "--image", test::busybox_rootfs(),
                                       "--network", "none"};
    create.insert(create.end(), extra.begin(), extra.end());
    auto r = sb.volt(create);
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string node = sb.root() + "/containers/" + name + "/var/evil";
    REQUIRE(fs::mkdir_p(fs::dirname(node)).ok());
    REQUIRE(::mknod(node.c_str(), S_IFBLK | 0666, makedev(7, loop.number())) == 0);
    REQUIRE(::chmod(node.c_str(), 0666) == 0);
    // The node is live: on the host it reads the scratch file.
    REQUIRE(fs::read_file(node)->substr(0, 6) == "secret");
    // The guest's own processes try too: a script its init runs once at boot.
    std::string rootfs = sb.root() + "/containers/" + name;
    REQUIRE(fs::write_file_atomic(rootfs + "/probe.sh",
                                  "#!/bin/sh\n"
                                  "dd if=/var/evil bs=6 count=1 >/tmp/guest-read 2>/tmp/guest-err\n"
                                  "dd if=/dev/zero of=/var/evil bs=1 count=1 conv=notrunc "
                                  "2>>/tmp/guest-err\n"
                                  "echo done >/tmp/guest-done\n",
                                  0755)
                .ok());
    auto inittab = fs::read_file(rootfs + "/etc/inittab");
    REQUIRE(inittab.ok());
    REQUIRE(fs::write_file_atomic(rootfs + "/etc/inittab", *inittab + "::once:/probe.sh\n").ok());
    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    return name;
}

void check_out_of_reach(const test::Sandbox& sb, const std::string& name, const ScratchLoop& loop,
                        bool guest_can_mknod) {
    // The guest's init's script: read and write refused by the policy. Its /tmp is nspawn's
    // tmpfs, read through exec.
    auto read = [&](const std::string& file) {
        auto r = sb.volt({"exec", name, "--", "cat", "/tmp/" + file});
        return r.code == 0 ? r.out : std::string();
    };
    for (int i = 0; i < 100 && read("guest-done").empty(); ++i)
        ::usleep(100 * 1000);
    REQUIRE(read("guest-done") == "done\n");
    CHECK(read("guest-read") == "");
    std::string guest_err = read("guest-err");
    INFO("guest: " << guest_err);
    CHECK(guest_err.find("dd: can't open '/var/evil': Operation not permitted\n"
                         "dd: can't open '/var/evil': Operation not permitted") !=
          std::string::npos);
    // Read and write of the planted node: refused by the policy (EPERM), whatever its mode.
    auto r = sb.volt({"exec", name, "--", "dd", "if=/var/evil", "bs=6", "count=1"});
    INFO(r.out << r.err);
    CHECK(r.code != 0);
    CHECK(r.out.find("secret") == std::string::npos);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
    r = sb.volt({"exec", name, "--", "dd", "if=/dev/zero", "of=/var/evil", "bs=1", "count=1",
                 "conv=notrunc"});
    INFO(r.out << r.err);
    CHECK(r.code != 0);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
    // A node the guest makes itself: the guest's root without a user namespace has CAP_MKNOD,
    // and the policy refuses the mknod; with one, the kernel (and Landlock) do.
    std::string minor = std::to_string(loop.number());
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "mknod /tmp/evil b 7 " + minor + " && dd if=/tmp/evil bs=6 count=1"});
    INFO(r.out << r.err);
    CHECK(r.code != 0);
    CHECK(r.out.find("secret") == std::string::npos);
    if (guest_can_mknod)
        CHECK(r.err.find("mknod: /tmp/evil: Operation not permitted") != std::string::npos);
    // What the guest needs still works.
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "echo x > /dev/null && dd if=/dev/urandom bs=4 count=1 2>/dev/null | wc -c && "
                 "dd if=/dev/zero bs=3 count=1 2>/dev/null | wc -c"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == "4\n3\n");
}

}  // namespace

TEST_CASE("the guest cannot open a host block device, with or without a user namespace", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    ScratchLoop loop;
    test::Sandbox sb;
    for (bool private_users : {true, false}) {
        INFO("private users: " << private_users);
        std::vector<std::string> extra;
        // Without a user namespace, also without Landlock: exec'd commands get its file rules,
        // which refuse mknod before the device policy is asked.
        if (!private_users)
            extra.insert(extra.end(), {"--no-private-users", "--landlock", "none"});
        std::string name = boot_with_planted_node(sb, loop, private_users ? "dev" : "devnu", extra);
        check_out_of_reach(sb, name, loop, !private_users);
        // inspect reads the attachment back from the kernel.
        std::string devices = sb.inspect(name)["enforcement"]["devices"].get<std::string>();
        CHECK(devices.find("closed, 10 rules allowed") != std::string::npos);
        CHECK(devices.find("eBPF program on ") != std::string::npos);
        CHECK(devices.find("NO eBPF") == std::string::npos);
        // On a hybrid host the v1 devices controller holds the policy too, in a cgroup of the
        // container's own that stop removes.
        auto state =
            nlohmann::json::parse(*fs::read_file(sb.run_dir() + "/" + name + "/state.json"));
        std::string v1 = state.value("cgroup_devices", std::string());
        if (!v1.empty()) {
            auto list = fs::read_file(v1 + "/devices.list");
            REQUIRE(list.ok());
            CHECK(list->find("c 1:3 rwm\n") != std::string::npos);
            CHECK(list->find("b ") == std::string::npos);
        }
        auto r = sb.volt({"stop", "--time", "20", name});
        INFO(r.err);
        CHECK(r.code == 0);
        if (!v1.empty())
            CHECK_FALSE(fs::exists(v1));
        CHECK(sb.volt({"delete", name}).code == 0);
    }
}

TEST_CASE("create --device makes one host device usable in the container", "[e2e]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    ScratchLoop loop;
    test::Sandbox sb;
    std::string name = sb.unique_name("devok");
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none",
                      "--no-private-users", "--landlock", "none", "--device", loop.path() + ":rw"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"boot", "--detach", "--timeout", "60", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
    // Bound at its own path, readable and writable.
    r = sb.volt({"exec", name, "--", "dd", "if=" + loop.path(), "bs=6", "count=1"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == "secret");
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "printf S | dd of=" + loop.path() +
                     " bs=1 count=1 conv=notrunc 2>/dev/null && "
                     "dd if=" +
                     loop.path() + " bs=6 count=1 2>/dev/null"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out == "Secret");
    // rw without m: no new node for it.
    r = sb.volt(
        {"exec", name, "--", "mknod", "/tmp/again", "b", "7", std::to_string(loop.number())});
    CHECK(r.code != 0);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
    // Another loop device stays out of reach.
    std::string other = std::to_string(loop.number() == 0 ? 1 : 0);
    r = sb.volt({"exec", name, "--", "sh", "-c",
                 "mknod /tmp/other b 7 " + other + " || dd if=/dev/loop" + other + " count=1"});
    CHECK(r.code != 0);
    r = sb.volt({"stop", "--time", "20", name});
    CHECK(r.code == 0);
    CHECK(sb.volt({"delete", name}).code == 0);
}
