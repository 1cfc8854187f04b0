// The cgroup module on the machine's real cgroup2 hierarchy: a process really moves, really
// stops when frozen, really dies on kill.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>

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
