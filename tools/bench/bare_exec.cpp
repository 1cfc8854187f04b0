// The baseline of the exec benchmark: the least a program can do to run a command in a running
// container, built the fastest way it can be (statically linked, tools/bench/CMakeLists.txt).
// pidfd_open(leader), one setns into its namespaces, vfork (no page tables copied), exec, wait.
// No state, no cgroup, no PATH search, no error reporting beyond the exit code.
// Usage: volt-bare-exec [--userns] LEADER_PID /ABSOLUTE/CMD [ARGS...]
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    int arg = 1;
    int flags =
        CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWPID;
    if (arg < argc && std::strcmp(argv[arg], "--userns") == 0) {
        flags |= CLONE_NEWUSER;
        ++arg;
    }
    if (argc - arg < 2)
        return 2;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, std::atoi(argv[arg]), 0));
    if (pidfd < 0 || ::setns(pidfd, flags) < 0)
        return 125;
    pid_t pid = ::vfork();
    if (pid == 0) {
        ::execv(argv[arg + 1], argv + arg + 1);
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
