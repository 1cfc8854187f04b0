// One typed wrapper per raw syscall that glibc 2.36 does not wrap (or wraps without the flags we
// need). Each notes the kernel version that introduced it; our machines run 6.18, and callers
// that have a fallback check for ENOSYS/EINVAL themselves.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::sys {

// Linux 5.3. Returns a pidfd (O_CLOEXEC is implied by the kernel) for a running process.
inline Result<UniqueFd> pidfd_open(pid_t pid, unsigned flags = 0) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
    if (fd < 0)
        return Error::from_errno("pidfd_open(" + std::to_string(pid) + ")");
    return UniqueFd(fd);
}

// Linux 5.1. Signals the process a pidfd refers to; immune to pid reuse.
inline Status pidfd_send_signal(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0)
        return Error::from_errno("pidfd_send_signal(" + std::to_string(sig) + ")");
    return {};
}

// Linux 3.0; a pidfd with several CLONE_NEW* flags at once since 5.8 (all or nothing).
// Joining a user namespace needs a single-threaded caller.
inline Status setns(int fd, int nstype) {
    if (::setns(fd, nstype) < 0)
        return Error::from_errno("setns");
    return {};
}

// Linux 5.6. openat with resolve restrictions (RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS …).
inline Result<UniqueFd> openat2(int dirfd, const char* path, std::uint64_t flags,
                                std::uint64_t mode, std::uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    int fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
    if (fd < 0)
        return Error::from_errno(std::string("openat2 ") + path);
    return UniqueFd(fd);
}

// Linux 5.3; CLONE_INTO_CGROUP since 5.7. Laid out as the kernel's struct clone_args (v2); ours
// so that <linux/sched.h> and glibc's <sched.h> need not be mixed.
struct CloneArgs {
    std::uint64_t flags = 0;
    std::uint64_t pidfd = 0;
    std::uint64_t child_tid = 0;
    std::uint64_t parent_tid = 0;
    std::uint64_t exit_signal = 0;
    std::uint64_t stack = 0;
    std::uint64_t stack_size = 0;
    std::uint64_t tls = 0;
    std::uint64_t set_tid = 0;
    std::uint64_t set_tid_size = 0;
    std::uint64_t cgroup = 0;
};
inline constexpr std::uint64_t kCloneIntoCgroup = 0x200000000ULL;
inline constexpr std::uint64_t kClonePidfd = 0x00001000ULL;

// fork()-like clone3 (no new stack): returns 0 in the child, the pid in the parent, -1 with errno
// on failure. The child must only make async-signal-safe calls before execve, as after vfork.
inline pid_t clone3(CloneArgs& args) {
    return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

// Linux 5.4: waits for the process behind a pidfd (it must be our child).
inline Result<siginfo_t> waitid_pidfd(int pidfd, int options = WEXITED) {
    siginfo_t info{};
    for (;;) {
        if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, options) == 0)
            return info;
        if (errno != EINTR)
            return Error::from_errno("waitid");
    }
}

}  // namespace volt::sys
