// The cgroup-vm tier: runs as /init's test inside a qemu VM whose kernel has a real cgroup2
// hierarchy with the memory, pids, cpu and cpuset controllers (tools/cgroup-vm/run.sh). It
// shows, through volt-run's own cgroup code, that limits bite: an allocation beyond memory.max
// is OOM-killed and counted; forks beyond pids.max fail; a busy loop under cpu.max is
// throttled; cgroup.kill ends every process; a live update changes a limit.
// Prints one line per check and "VOLT-CGROUP-VM: PASS" or "VOLT-CGROUP-VM: FAIL" at the end.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cgroup/cgroup.hpp"
#include "cgroup/limits.hpp"

using namespace volt;

namespace {

const std::string kMount = "/sys/fs/cgroup";
int failures = 0;

void check(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    std::fflush(stdout);
    if (!ok)
        ++failures;
}

// A cgroup under the root with the given limits, through the same calls boot makes.
cgroup::Cgroup limited(const std::string& name, const cgroup::Limits& limits) {
    std::string path = kMount + "/" + name;
    auto cg = cgroup::Cgroup::create(path);
    if (!cg) {
        std::printf("FAIL create %s: %s\n", path.c_str(), cg.error().describe().c_str());
        std::exit(1);
    }
    auto settings = cgroup::render(limits);
    std::vector<std::string> missing;
    std::string why;
    auto st =
        cgroup::enable_controllers(kMount, path, cgroup::controllers_of(settings), missing, why);
    check(st && missing.empty(), "controllers for " + name + " enabled" +
                                     (missing.empty() ? "" : " (missing: " + why + ")"));
    st = cgroup::write_settings(path, settings);
    check(st.ok(), "limits of " + name + " written" + (st ? "" : ": " + st.error().describe()));
    return std::move(cg).value();
}

// Forks a child that joins cg and runs fn; returns its pid.
template <class F>
pid_t child_in(const cgroup::Cgroup& cg, F fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
        if (!cg.attach(0))
            ::_exit(90);
        ::_exit(fn());
    }
    return pid;
}

int wait_status(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

void memory_max() {
    cgroup::Limits l;
    l.memory_max = 32ULL << 20;
    l.memory_swap_max = 0;
    auto cg = limited("mem", l);
    pid_t pid = child_in(cg, [] {
        // 64 MiB, every page written: the writes go through a volatile pointer so that the
        // compiler cannot drop them.
        std::size_t size = 64ULL << 20;
        auto* p = static_cast<volatile char*>(
            ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        for (std::size_t i = 0; i < size; i += 4096)
            p[i] = static_cast<char>(i);
        return 0;  // not reached under the limit
    });
    int status = wait_status(pid);
    check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "64 MiB under memory.max 32M is OOM-killed");
    auto stats = cgroup::read_stats(cg.path());
    check(stats.oom_kills && *stats.oom_kills >= 1,
          "memory.events oom_kill counted: " + std::to_string(stats.oom_kills.value_or(0)));
    check(stats.memory_peak && *stats.memory_peak >= (30ULL << 20),
          "memory.peak near the limit: " + std::to_string(stats.memory_peak.value_or(0)));
}

int fork_many(int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
        pid_t p = ::fork();
        if (p == 0) {
            ::pause();
            ::_exit(0);
        }
        if (p > 0)
            ++ok;
    }
    return ok;
}

void pids_max_and_update() {
    cgroup::Limits l;
    l.pids_max = 8;
    auto cg = limited("pids", l);
    // The child counts itself: 8 tasks in all leave room for 7 forks.
    int pipefd[2];
    if (::pipe(pipefd) < 0)
        std::exit(1);
    pid_t pid = child_in(cg, [&] {
        int ok = fork_many(20);
        (void)!::write(pipefd[1], &ok, sizeof ok);
        ::pause();  // keep the children while the parent updates the limit
        return 0;
    });
    int forked = 0;
    (void)!::read(pipefd[0], &forked, sizeof forked);
    check(forked == 7, "pids.max 8: " + std::to_string(forked) + " of 20 forks succeeded");
    auto stats = cgroup::read_stats(cg.path());
    check(stats.pids_current == 8u,
          "pids.current is 8: " + std::to_string(stats.pids_current.value_or(0)));

    // A live update, as `volt-run update --pids-max 4` writes it: now below the current count.
    cgroup::Limits lower;
    lower.pids_max = 4;
    check(cgroup::write_settings(cg.path(), cgroup::render(lower)).ok(), "pids.max updated to 4");
    pid_t extra = child_in(cg, [] { return ::fork() < 0 && errno == EAGAIN ? 0 : 1; });
    // The helper itself cannot even be forked into a full cgroup: attach may succeed (attaching
    // is not forking) but its own fork must fail.
    int st = wait_status(extra);
    check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after the update a fork in the cgroup fails");

    // cgroup.kill ends every process of the subtree.
    check(cg.kill().ok(), "cgroup.kill written");
    check(cg.wait_empty(5000).ok(), "cgroup empty after cgroup.kill");
    int status = wait_status(pid);
    check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was SIGKILLed");
}

void cpu_max() {
    cgroup::Limits l;
    l.cpus_milli = 100;  // 0.1 CPU: cpu.max "10000 100000"
    auto cg = limited("cpu", l);
    pid_t pid = child_in(cg, [] {
        timespec start, now;
        ::clock_gettime(CLOCK_MONOTONIC, &start);
        volatile unsigned long spin = 0;
        do {
            for (int i = 0; i < 100000; ++i)
                spin = spin + 1;
            ::clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec - start.tv_sec < 2);
        return 0;
    });
    wait_status(pid);
    auto stats = cgroup::read_stats(cg.path());
    check(stats.nr_throttled && *stats.nr_throttled > 0,
          "busy loop under cpu.max 0.1 CPU throttled: nr_throttled " +
              std::to_string(stats.nr_throttled.value_or(0)));
    check(stats.cpu_usage_usec && *stats.cpu_usage_usec < 1000000,
          "and used well under its 2 s of wall time: usage_usec " +
              std::to_string(stats.cpu_usage_usec.value_or(0)));
}

}  // namespace

int main() {
    std::printf("VOLT-CGROUP-VM: start\n");
    memory_max();
    pids_max_and_update();
    cpu_max();
    for (const char* name : {"mem", "pids", "cpu"})
        (void)cgroup::remove_tree(kMount + "/" + name);
    std::printf("VOLT-CGROUP-VM: %s (%d failed)\n", failures == 0 ? "PASS" : "FAIL", failures);
    return failures == 0 ? 0 : 1;
}
