// The cgroup module on the machine's real cgroup2 hierarchy: a process really moves, really
// stops when frozen, really dies on kill.
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <optional>
#include <thread>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/syscalls.hpp"
#include "cgroup/cgroup.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// A child that counts as fast as it can in shared memory, so the test can see it run or stop.
struct Counter {
    std::atomic<std::uint64_t>* value;
    pid_t pid;
};

Counter start_counter() {
    void* mem = ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mem != MAP_FAILED);
    auto* value = new (mem) std::atomic<std::uint64_t>(0);
    pid_t pid = ::fork();
    if (pid == 0) {
        for (;;)
            value->fetch_add(1, std::memory_order_relaxed);
    }
    return {value, pid};
}

bool advances(const Counter& c) {
    auto before = c.value->load();
    ::usleep(100 * 1000);
    return c.value->load() != before;
}

}  // namespace

TEST_CASE("a cgroup on the real hierarchy: attach, freeze, thaw, kill, remove", "[privileged]") {
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    auto self = cgroup::self_membership();
    REQUIRE(self.ok());
    std::string path = mount + (self->unified == "/" ? "" : self->unified) + "/volt-test-" +
                       std::to_string(::getpid());
    auto cg = cgroup::Cgroup::create(path + "/leaf");
    REQUIRE(cg.ok());
    Counter counter = start_counter();

    REQUIRE(cg->attach(counter.pid).ok());
    auto procs = cg->procs();
    REQUIRE(procs.ok());
    CHECK(*procs == std::vector<pid_t>{counter.pid});
    auto membership = fs::read_file("/proc/" + std::to_string(counter.pid) + "/cgroup");
    REQUIRE(membership.ok());
    CHECK(membership->find("0::" + path.substr(mount.size()) + "/leaf\n") != std::string::npos);
    CHECK(*cg->populated());
    CHECK(advances(counter));

    REQUIRE(cg->freeze(true).ok());
    CHECK_FALSE(advances(counter));
    REQUIRE(cg->freeze(false).ok());
    CHECK(advances(counter));

    auto parent = cgroup::Cgroup::open(path);
    REQUIRE(parent.ok());
    REQUIRE(parent->kill().ok());  // the whole subtree
    int status = 0;
    REQUIRE(::waitpid(counter.pid, &status, 0) == counter.pid);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    REQUIRE(parent->wait_empty(2000).ok());
    CHECK_FALSE(*cg->populated());

    REQUIRE(cgroup::remove_tree(path).ok());
    CHECK_FALSE(fs::exists(path));
    CHECK(cgroup::remove_tree(path).ok());
}

TEST_CASE("clone3_vfork starts its child in the cgroup it is given, sharing our memory",
          "[privileged]") {
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    auto self = cgroup::self_membership();
    REQUIRE(self.ok());
    const std::string relative =
        (self->unified == "/" ? "" : self->unified) + "/volt-test-c3-" + std::to_string(::getpid());
    auto cg = cgroup::Cgroup::create(mount + relative);
    REQUIRE(cg.ok());
    UniqueFd dir(::open((mount + relative).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir);
    // The child writes into our memory (CLONE_VM), then execs a sleep the test can look at.
    struct Shared {
        int written = 0;
    } shared;
    auto child = [](void* arg) -> int {
        static_cast<Shared*>(arg)->written = 42;
        char sleep[] = "/bin/sleep", thirty[] = "30";
        char* argv[] = {sleep, thirty, nullptr};
        ::execv(argv[0], argv);
        ::_exit(127);
    };
    alignas(64) static char stack[64 * 1024];
    int pidfd = -1;
    auto pid = sys::clone3_vfork(child, &shared, stack, sizeof stack, dir.get(), &pidfd);
#if defined(__x86_64__)
    REQUIRE(pid.ok());
#else
    test::skip_unless(pid.ok(), "clone3 with a stack of our own on this architecture");
#endif
    UniqueFd child_fd(pidfd);
    CHECK(pidfd >= 0);
#if !defined(__SANITIZE_ADDRESS__)
    CHECK(shared.written == 42);  // the memory was shared (sanitizer builds copy it)
#endif
    auto membership = fs::read_file("/proc/" + std::to_string(*pid) + "/cgroup");
    REQUIRE(membership.ok());
    CHECK(membership->find("0::" + relative + "\n") != std::string::npos);
    CHECK(*cg->procs() == std::vector<pid_t>{*pid});
    REQUIRE(::kill(*pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(*pid, &status, 0) == *pid);
    CHECK(WIFSIGNALED(status));
    REQUIRE(cgroup::remove_tree(mount + relative).ok());
}

TEST_CASE("clone3_fork: a copy born in the cgroup, a child of the caller's parent",
          "[privileged]") {
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    auto self = cgroup::self_membership();
    REQUIRE(self.ok());
    const std::string relative =
        (self->unified == "/" ? "" : self->unified) + "/volt-test-cf-" + std::to_string(::getpid());
    auto cg = cgroup::Cgroup::create(mount + relative);
    REQUIRE(cg.ok());
    int report[2], hold[2];
    REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
    UniqueFd report_read(report[0]), report_write(report[1]);
    REQUIRE(::pipe2(hold, O_CLOEXEC) == 0);
    UniqueFd hold_read(hold[0]), hold_write(hold[1]);
    // The caller forks a sibling of its own into the cgroup and stays until we have the copy's
    // report (a child of the caller would name it as its parent then); the copy reports its
    // parent and its cgroup, then exits 7.
    pid_t caller = ::fork();
    REQUIRE(caller >= 0);
    if (caller == 0) {
        hold_write.reset();
        auto copy = sys::clone3_fork(cg->fd(), true);
        if (!copy)
            ::_exit(1);
        if (*copy > 0) {
            report_write.reset();
            char c;
            (void)!::read(hold_read.get(), &c, 1);  // EOF once the test has the report
            ::_exit(0);
        }
        auto cgroup_text = fs::read_file("/proc/self/cgroup");
        std::string line = std::to_string(::getppid()) + " " + std::to_string(::getpid()) + " " +
                           (cgroup_text ? *cgroup_text : std::string("?"));
        (void)!::write(report_write.get(), line.data(), line.size());
        ::_exit(7);
    }
    report_write.reset();
    hold_read.reset();
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(report_read.get(), buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    hold_write.reset();
    int status = 0;
    REQUIRE(::waitpid(caller, &status, 0) == caller);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    pid_t parent = 0, copy = 0;
    int used = 0;
    REQUIRE(std::sscanf(text.c_str(), "%d %d %n", &parent, &copy, &used) == 2);
    CHECK(parent == ::getpid());  // ours, though the caller still ran
    CHECK(text.find("0::" + relative + "\n") != std::string::npos);
    // And so ours to reap.
    REQUIRE(::waitpid(copy, &status, 0) == copy);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
    REQUIRE(cgroup::remove_tree(mount + relative).ok());
}

// Drops CAP_DAC_OVERRIDE from the calling thread's effective set: root then obeys file modes.
bool drop_dac_override() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) < 0)
        return false;
    data[0].effective &= ~(1u << CAP_DAC_OVERRIDE);
    return ::syscall(SYS_capset, &header, data) == 0;
}

TEST_CASE(
    "create_and_join_v1: one thread moves itself by tasks, a process of threads by "
    "cgroup.procs, every thread of it",
    "[privileged]") {
    auto mounts = cgroup::find_mounts();
    REQUIRE(mounts.ok());
    const std::string hierarchy = mounts->devices.empty() ? mounts->named_systemd : mounts->devices;
    test::skip_unless(!hierarchy.empty(), "a cgroup v1 hierarchy (devices or name=systemd)");
    struct statvfs fs_stat {};
    test::skip_unless(::statvfs(hierarchy.c_str(), &fs_stat) == 0 && !(fs_stat.f_flag & ST_RDONLY),
                      "a writable cgroup v1 hierarchy (" + hierarchy + " is read-only)");
    const std::string path = hierarchy + "/volt-test-v1-" + std::to_string(::getpid());
    REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    // In a child, which joins and reports: 0 when /proc says every one of its threads is in
    // the cgroup. With `threads`, a second thread runs while it joins. Which file each way
    // writes is shown by the other one's mode 0: without CAP_DAC_OVERRIDE, a write to it fails.
    auto joins = [&](bool threads) {
        // The child inherits glibc's view; once this process has made a thread (another test
        // case, when the binary runs whole), it never says single-threaded again.
        const bool by_tasks = !threads && __libc_single_threaded;
        const std::string other_file = path + (by_tasks ? "/cgroup.procs" : "/tasks");
        const std::string used_file = path + (by_tasks ? "/tasks" : "/cgroup.procs");
        REQUIRE(::chmod(other_file.c_str(), 0) == 0);
        REQUIRE(::chmod(used_file.c_str(), 0644) == 0);
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            if (!drop_dac_override())
                ::_exit(8);
            std::atomic<bool> stop{false};
            std::optional<std::thread> other;
            if (threads)
                other.emplace([&] {
                    while (!stop.load())
                        ::usleep(1000);
                });
            int failed = cgroup::create_and_join_v1(path) ? 0 : 1;
            const std::string leaf = path.substr(hierarchy.size()) + "\n";
            auto tasks = fs::list_dir("/proc/self/task");
            if (!tasks || tasks->size() != (threads ? 2u : 1u))
                failed |= 2;
            for (const auto& t : tasks ? *tasks : std::vector<std::string>{}) {
                auto text = fs::read_file("/proc/self/task/" + t + "/cgroup");
                if (!text || text->find(leaf) == std::string::npos)
                    failed |= 4;
            }
            stop = true;
            if (other)
                other->join();
            ::_exit(failed);
        }
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFEXITED(status));
        return WEXITSTATUS(status);
    };
    CHECK(joins(false) == 0);
    CHECK(joins(true) == 0);
    REQUIRE(cgroup::remove_tree(path).ok());
}
