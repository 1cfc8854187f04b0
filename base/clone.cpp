// clone3, which glibc 2.36 has no wrapper for. With a stack of the caller's and CLONE_VM the
// child's first instructions are a few lines of assembly here; see clone3_vfork and clone3_fork
// in base/syscalls.hpp.
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "base/syscalls.hpp"

namespace volt::sys {

#if defined(__x86_64__)
namespace {

// long raw_clone3(clone_args* args, size_t size, int (*fn)(void*), void* arg): the clone3
// syscall; in the child (on args->stack) fn(arg) is called and its result passed to exit. The
// parent gets the syscall's result: the child's pid or -errno. fn and arg are kept in r8 and r9,
// which the syscall preserves in both processes (only rcx and r11 are clobbered); the child
// starts with the new stack's top in rsp, 16-byte aligned as a call needs.
extern "C" __attribute__((naked, noinline, used)) long volt_raw_clone3(void*, unsigned long,
                                                                       int (*)(void*), void*) {
    asm volatile(
        "mov %rdx, %r8\n\t"
        "mov %rcx, %r9\n\t"
        "mov $435, %eax\n\t"  // __NR_clone3
        "syscall\n\t"
        "test %rax, %rax\n\t"
        "jnz 1f\n\t"
        "xor %ebp, %ebp\n\t"  // the outermost frame of the child
        "mov %r9, %rdi\n\t"
        "call *%r8\n\t"
        "mov %eax, %edi\n\t"
        "mov $60, %eax\n\t"  // __NR_exit
        "syscall\n\t"
        "hlt\n\t"
        "1:\n\t"
        "ret\n\t");
}

}  // namespace
#endif

Result<pid_t> clone3_vfork(int (*fn)(void*), void* arg, void* stack, std::size_t stack_size,
                           int cgroup_fd, int* pidfd) {
#if defined(__x86_64__)
    clone_args args{};
    args.flags = kCloneShare | CLONE_PIDFD | CLONE_INTO_CGROUP;
    args.pidfd = reinterpret_cast<std::uintptr_t>(pidfd);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<std::uintptr_t>(stack);
    args.stack_size = stack_size;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    long pid = volt_raw_clone3(&args, sizeof args, fn, arg);
    if (pid < 0)
        return Error(static_cast<int>(-pid), "clone3");
    return static_cast<pid_t>(pid);
#else
    (void)fn, (void)arg, (void)stack, (void)stack_size, (void)cgroup_fd, (void)pidfd;
    return Error(ENOSYS, "clone3 with a stack of our own (not built for this architecture)");
#endif
}

Result<pid_t> clone3_fork(int cgroup_fd, bool sibling) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP | (sibling ? CLONE_PARENT : 0);
    // A sibling is given the caller's own exit signal; clone3 refuses one of its own beside it.
    args.exit_signal = sibling ? 0 : SIGCHLD;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        return Error::from_errno("clone3");
    return static_cast<pid_t>(pid);
}

}  // namespace volt::sys
