// The device policy on the machine's real hierarchies: a process in a cgroup with the eBPF program
// (or in a v1 devices cgroup with the policy) opens /dev/null but not a host block device, which
// the same process opens outside. The block device is a loop device bound to a scratch file.
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "base/fs.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/devices.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// A loop device bound to a scratch file holding "secret", and a node for it (b 7:N) made in a
// temp directory, as a guest would make one; unbound again at the end.
class ScratchLoop {
  public:
    ScratchLoop() {
        test::skip_unless(test::is_root(), "root (loop devices, bpf)");
        test::skip_unless(::access("/dev/loop-control", W_OK) == 0,
                          "loop devices (/dev/loop-control)");
        REQUIRE(
            fs::write_file_atomic(dir_ / "backing", std::string("secret") + std::string(4090, 'x'))
                .ok());
        int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        REQUIRE(ctl >= 0);
        int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
        ::close(ctl);
        REQUIRE(n >= 0);
        number_ = n;
        std::string dev = "/dev/loop" + std::to_string(n);
        loop_fd_ = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(loop_fd_ >= 0);
        int backing = ::open((dir_ / "backing").c_str(), O_RDWR | O_CLOEXEC);
        REQUIRE(backing >= 0);
        int r = ::ioctl(loop_fd_, LOOP_SET_FD, backing);
        ::close(backing);
        REQUIRE(r == 0);
        REQUIRE(::mknod(node().c_str(), S_IFBLK | 0600, makedev(7, n)) == 0);
    }
    ~ScratchLoop() {
        ::ioctl(loop_fd_, LOOP_CLR_FD, 0);
        ::close(loop_fd_);
    }
    std::string node() const { return dir_ / "evil"; }
    std::string spare() const { return dir_ / "made-inside"; }
    int number() const { return number_; }

  private:
    test::TempDir dir_;
    int number_ = -1;
    int loop_fd_ = -1;
};

struct Probe {
    int null_rw = -1;  // errno of each attempt, 0 for success
    int block_read = -1;
    int block_write = -1;
    int block_mknod = -1;
    bool read_secret = false;
};

int open_errno(const std::string& path, int flags, bool* secret = nullptr) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        return errno;
    if (secret) {
        char buf[6] = {};
        *secret = ::read(fd, buf, sizeof buf) == 6 && std::memcmp(buf, "secret", 6) == 0;
    }
    ::close(fd);
    return 0;
}

// Runs the probe in a child that first writes itself into each of `procs` (cgroup.procs files);
// none: the child stays where the test is (the control).
Probe probe(const ScratchLoop& loop, const std::vector<std::string>& procs) {
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        for (const auto& p : procs) {
            int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::write(fd, "0", 1) != 1)
                ::_exit(3);
            ::close(fd);
        }
        Probe r;
        r.null_rw = open_errno("/dev/null", O_RDWR);
        r.block_read = open_errno(loop.node(), O_RDONLY, &r.read_secret);
        r.block_write = open_errno(loop.node(), O_WRONLY);
        r.block_mknod =
            ::mknod(loop.spare().c_str(), S_IFBLK | 0600, makedev(7, loop.number())) == 0 ? 0
                                                                                          : errno;
        ::unlink(loop.spare().c_str());
        ssize_t n = ::write(pipefd[1], &r, sizeof r);
        ::_exit(n == sizeof r ? 0 : 4);
    }
    ::close(pipefd[1]);
    Probe r;
    ssize_t n = ::read(pipefd[0], &r, sizeof r);
    ::close(pipefd[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(n == sizeof r);
    return r;
}

std::vector<cgroup::DeviceRule> default_rules() {
    std::vector<cgroup::DeviceRule> rules;
    for (const auto& d : cgroup::default_devices())
        rules.push_back(d.rule);
    return rules;
}

// A scratch cgroup, removed at the end (its processes have exited by then).
struct ScratchCgroup {
    std::string path;
    explicit ScratchCgroup(const std::string& mount)
        : path(mount + "/volt-test-devices-" + std::to_string(::getpid())) {
        REQUIRE(fs::mkdir_p(path).ok());
    }
    ~ScratchCgroup() { (void)cgroup::remove_tree(path); }
};

void check_control(const ScratchLoop& loop) {
    // Outside any policy the very same opens work: what the policy refuses below is its doing.
    Probe outside = probe(loop, {});
    CHECK(outside.null_rw == 0);
    CHECK(outside.block_read == 0);
    CHECK(outside.read_secret);
    CHECK(outside.block_write == 0);
    CHECK(outside.block_mknod == 0);
}

}  // namespace

TEST_CASE("the eBPF device program: /dev/null opens, a host block device does not",
          "[privileged]") {
    ScratchLoop loop;
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    check_control(loop);

    ScratchCgroup cg(mount);
    auto group = cgroup::Cgroup::open(cg.path);
    REQUIRE(group.ok());
    auto attached = cgroup::attach_device_program(group->fd(), default_rules());
    INFO((attached ? std::string() : attached.error().describe()));
    REQUIRE(attached.ok());
    Probe inside = probe(loop, {cg.path + "/cgroup.procs"});
    CHECK(inside.null_rw == 0);
    CHECK(inside.block_read == EPERM);
    CHECK_FALSE(inside.read_secret);
    CHECK(inside.block_write == EPERM);
    CHECK(inside.block_mknod == EPERM);

    // A child cgroup (nspawn's payload/) is bound by its parent's program.
    ScratchCgroup child(cg.path);
    Probe below = probe(loop, {child.path + "/cgroup.procs"});
    CHECK(below.null_rw == 0);
    CHECK(below.block_read == EPERM);
    CHECK(below.block_write == EPERM);

    // Attaching again (a second boot on a leftover cgroup) replaces the program: one is left,
    // and it is the new policy, which here grants the loop device read access only.
    auto rules = default_rules();
    rules.push_back({'b', 7u, static_cast<std::uint32_t>(loop.number()), cgroup::kDeviceRead});
    REQUIRE(cgroup::attach_device_program(group->fd(), rules).ok());
    auto ids = cgroup::attached_device_programs(group->fd());
    REQUIRE(ids.ok());
    CHECK(ids->size() == 1);
    Probe granted = probe(loop, {cg.path + "/cgroup.procs"});
    CHECK(granted.null_rw == 0);
    CHECK(granted.block_read == 0);
    CHECK(granted.read_secret);
    CHECK(granted.block_write == EPERM);
    CHECK(granted.block_mknod == EPERM);
}

TEST_CASE("the v1 devices controller: /dev/null opens, a host block device does not",
          "[privileged]") {
    ScratchLoop loop;
    auto mounts = cgroup::find_mounts();
    test::skip_unless(
        mounts.ok() && !mounts->devices.empty() && ::access(mounts->devices.c_str(), W_OK) == 0,
        "a writable cgroup v1 devices hierarchy");
    check_control(loop);

    ScratchCgroup cg(mounts->devices);
    REQUIRE(cgroup::write_v1_policy(cg.path, default_rules()).ok());
    auto list = fs::read_file(cg.path + "/devices.list");
    REQUIRE(list.ok());
    CHECK(*list ==
          "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\n"
          "c 136:* rw\nc 10:200 rwm\nc 10:229 rwm\n");
    Probe inside = probe(loop, {cg.path + "/cgroup.procs"});
    CHECK(inside.null_rw == 0);
    CHECK(inside.block_read == EPERM);
    CHECK_FALSE(inside.read_secret);
    CHECK(inside.block_write == EPERM);
    CHECK(inside.block_mknod == EPERM);
}

TEST_CASE("the device program passes the kernel's verifier for every rule shape", "[privileged]") {
    test::skip_unless(test::is_root(), "root (bpf)");
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    ScratchCgroup cg(mount);
    auto group = cgroup::Cgroup::open(cg.path);
    REQUIRE(group.ok());
    using cgroup::DeviceRule;
    for (const auto& rules : std::vector<std::vector<DeviceRule>>{
             {},
             {{'a', std::nullopt, std::nullopt, cgroup::kDeviceAll}},
             {{'b', 4095u, 1048575u, cgroup::kDeviceRead},
              {'c', std::nullopt, 0u, cgroup::kDeviceMknod}},
             default_rules(),
         }) {
        auto st = cgroup::attach_device_program(group->fd(), rules);
        INFO((st ? std::string() : st.error().describe()));
        CHECK(st.ok());
    }
}

TEST_CASE("boot fails closed, in one line, when the device policy cannot be attached",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root (bpf)");
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    // A scratch cgroup2 root whose own device program admits no other below it (no
    // BPF_F_ALLOW_MULTI or _OVERRIDE): the kernel refuses boot's attach with EPERM.
    ScratchCgroup root(mount);
    auto group = cgroup::Cgroup::open(root.path);
    REQUIRE(group.ok());
    auto prog = cgroup::device_program({{'a', std::nullopt, std::nullopt, cgroup::kDeviceAll}});
    bpf_attr load{};
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<std::uintptr_t>(prog.data());
    load.insn_cnt = static_cast<std::uint32_t>(prog.size());
    load.license = reinterpret_cast<std::uintptr_t>("GPL");
    int fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load));
    REQUIRE(fd >= 0);
    bpf_attr attach{};
    attach.target_fd = static_cast<std::uint32_t>(group->fd());
    attach.attach_bpf_fd = static_cast<std::uint32_t>(fd);
    attach.attach_type = BPF_CGROUP_DEVICE;
    REQUIRE(::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) == 0);
    ::close(fd);

    test::Sandbox sb;
    test::TempDir src;
    REQUIRE(fs::mkdir_p(src / "image/etc").ok());
    std::string name = sb.unique_name("nopolicy");
    auto r = sb.volt({"create", name, "--image", src / "image", "--network", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = sb.volt({"--cgroup-root", root.path, "boot", name});
    INFO(r.err);
    CHECK(r.code == 125);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("attaching the device policy") != std::string::npos);
    CHECK(r.err.find("a container does not boot without one") != std::string::npos);
    CHECK(r.err.find("Operation not permitted") != std::string::npos);
    // Nothing of the run is left: no cgroup, no state.
    auto cgroups = test::tree(root.path);
    for (const auto& entry : cgroups)
        CHECK(entry.find(name) == std::string::npos);
    CHECK_FALSE(fs::exists(sb.run_dir() + "/" + name + "/state.json"));
    CHECK(sb.inspect(name)["state"] == "stopped");
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
