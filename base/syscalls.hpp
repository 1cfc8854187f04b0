// One typed wrapper per raw syscall that glibc 2.36 does not wrap (or wraps without the flags we
// need). Each notes the kernel version that introduced it; our machines run 6.18, and callers
// that have a fallback check for ENOSYS/EINVAL themselves.
#pragma once

#include <fcntl.h>
#include <linux/bpf.h>
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

// Linux 5.13. Landlock; the attribute structs are landlock/'s (our own UAPI copy). Raw and
// returning -1/errno like the kernel, so that a CLONE_VM child may call them.
inline int landlock_create_ruleset(const void* attr, std::size_t size, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}
inline int landlock_add_rule(int ruleset_fd, int rule_type, const void* attr, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_add_rule, ruleset_fd, rule_type, attr, flags));
}
inline int landlock_restrict_self(int ruleset_fd, std::uint32_t flags) {
    return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset_fd, flags));
}

// Linux 3.17 (the flags later). seccomp(SECCOMP_SET_MODE_FILTER); raw, -1/errno, for a CLONE_VM
// child.
inline int seccomp_set_filter(unsigned flags, const void* fprog) {
    return static_cast<int>(::syscall(SYS_seccomp, 1 /* SECCOMP_SET_MODE_FILTER */, flags, fprog));
}

// Linux 5.11 (CLOSE_RANGE_CLOEXEC). Marks every fd from `first` up close-on-exec: they stay
// usable until execve. Raw, -1/errno, for a CLONE_VM child.
inline int close_range_cloexec(unsigned first) {
    return static_cast<int>(::syscall(SYS_close_range, first, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */));
}

// Linux 5.9. Closes every fd from `first` up. -1/errno.
inline int close_range(unsigned first) {
    return static_cast<int>(::syscall(SYS_close_range, first, ~0U, 0U));
}

// Linux 2.6.10. keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session keyring for
// the caller, replacing the inherited one. Raw, -1/errno, for a CLONE_VM child.
inline int join_new_session_keyring() {
    return static_cast<int>(::syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, nullptr));
}

// posix_spawn's way of starting a child, with a pidfd (CLONE_PIDFD, Linux 5.2): the child runs
// fn(arg) on `stack`, sharing our memory, while we are suspended until it execs or exits. No page
// tables are copied and nothing is copied on write, which makes it several times cheaper than
// fork for a process of our size. fn must only make async-signal-safe system calls, must not
// return normally before exec (it may _exit), and must not allocate.
// Returns the child's pid and stores its pidfd in *pidfd.
#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's runtime keeps locks and shadow state a child sharing our memory would leave
// in a mess (the parent hangs); sanitizer builds copy the memory instead, fork-style.
inline constexpr int kCloneShare = 0;
#else
inline constexpr int kCloneShare = CLONE_VM | CLONE_VFORK;
#endif

inline Result<pid_t> clone_vfork(int (*fn)(void*), void* arg, void* stack, std::size_t stack_size,
                                 int* pidfd) {
    void* top = static_cast<char*>(stack) + stack_size;  // the stack grows down on our arches
    int pid = ::clone(fn, top, kCloneShare | CLONE_PIDFD | SIGCHLD, arg, pidfd);
    if (pid < 0)
        return Error::from_errno("clone");
    return pid;
}

// Linux 5.7: clone_vfork's child, born in the cgroup2 directory `cgroup_fd`
// (clone3 with CLONE_INTO_CGROUP). No write to cgroup.procs: such a write takes the kernel's
// cgroup_threadgroup_rwsem for writing and may wait for an RCU grace period, 8-16 ms in half of
// the execs on our VMs (docs/BENCHMARKS.md); a fork into a cgroup only reads it. An error (ENOSYS
// on other architectures and old kernels, EINVAL, EOPNOTSUPP, EBUSY for a cgroup that cannot
// hold processes) leaves the caller to fall back to clone_vfork and a cgroup.procs write.
Result<pid_t> clone3_vfork(int (*fn)(void*), void* arg, void* stack, std::size_t stack_size,
                           int cgroup_fd, int* pidfd);

// Linux 5.7: fork, with the child born in the cgroup2 directory `cgroup_fd` (clone3 with
// CLONE_INTO_CGROUP) and, with `sibling`, made a child of our parent instead of ours
// (CLONE_PARENT). Returns 0 in the child and its pid in the caller, as fork does. For a process
// that must itself end up in a cgroup without a cgroup.procs write (see clone3_vfork for what
// that write costs): its copy carries on and the caller goes. Raw, for a single-threaded caller,
// and what the copy may then do is narrower than after fork(): glibc's atfork handlers do not
// run, its robust-mutex list is not registered again, and the thread id it keeps is still the
// caller's. raise and abort ask the kernel and work; what takes pthread_self() (affinity,
// scheduling) would name the caller's gone thread. An error (ENOSYS before 5.7,
// EINVAL for a pid namespace's init with `sibling`, EBUSY for a cgroup that cannot hold
// processes) leaves the caller as it was.
Result<pid_t> clone3_fork(int cgroup_fd, bool sibling);

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

// Linux 3.18 (cgroup device programs and BPF_PROG_ATTACH/QUERY to cgroups 4.15). One command of
// bpf(2) with its attribute union; returns the kernel's non-negative result (an fd for LOAD and
// GET_FD_BY_ID, 0 otherwise). Needs CAP_SYS_ADMIN (or CAP_BPF) in the initial user namespace:
// EPERM in any other.
inline Result<int> bpf(int cmd, bpf_attr& attr, const char* what) {
    int r = static_cast<int>(::syscall(SYS_bpf, cmd, &attr, sizeof attr));
    if (r < 0)
        return Error::from_errno(what);
    return r;
}

}  // namespace volt::sys
