// The cgroup module on the machine's real cgroup2 hierarchy: a process really moves, really
// stops when frozen, really dies on kill.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "base/fs.hpp"
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
