// try-syscall: makes one system call and reports how it ended, for the seccomp tests.
// Usage: try-syscall NAME [ARG]   prints "ok" or the errno's number, and exits with it (0 = ok).
// Arguments are chosen so that an allowed call fails harmlessly (EFAULT, EBADF, EINVAL …) or
// succeeds without side effects; only a filter produces ENOSYS or EPERM for them.
#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

long result(long rc) {
    return rc < 0 ? errno : 0;
}

#if defined(__x86_64__)
// A 32-bit system call through int 0x80 (the x86 compat ABI); returns -errno or the result.
long int80(long nr, long a = 0) {
    long ret;
    asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a) : "memory", "r8", "r9", "r10", "r11");
    return ret;
}
constexpr long kX86Getpid = 20;
constexpr long kX86Personality = 136;
#endif

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: try-syscall NAME [ARG]\n");
        return 255;
    }
    const char* name = argv[1];
    unsigned long arg = argc > 2 ? std::strtoul(argv[2], nullptr, 0) : 0;
    long err = -1;
    if (!std::strcmp(name, "getpid"))
        err = result(::syscall(SYS_getpid));
    else if (!std::strcmp(name, "personality"))  // a query (0xffffffff) or a value to set
        err = result(::syscall(SYS_personality, arg));
    else if (!std::strcmp(name, "clone3"))  // no arguments: EINVAL (or EFAULT) if allowed
        err = result(::syscall(SYS_clone3, nullptr, 0));
    else if (!std::strcmp(name, "swapon"))  // a null path: EFAULT if allowed
        err = result(::syscall(SYS_swapon, nullptr, 0));
    else if (!std::strcmp(name, "chroot"))  // a null path: EFAULT if allowed
        err = result(::syscall(SYS_chroot, nullptr));
    else if (!std::strcmp(name, "init_module"))  // a null image: EFAULT if allowed
        err = result(::syscall(SYS_init_module, nullptr, 0, ""));
    else if (!std::strcmp(name, "ptrace"))  // PTRACE_PEEKDATA of pid 0: ESRCH if allowed
        err = result(::syscall(SYS_ptrace, 2, 0, 0, 0));
    else if (!std::strcmp(name, "kexec_load"))
        err = result(::syscall(SYS_kexec_load, 0, 0, nullptr, 0));
    else if (!std::strcmp(name, "keyctl"))  // the session keyring's id: ok if allowed
        err = result(::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    else if (!std::strcmp(name, "add_key"))  // a null type: EFAULT if allowed
        err = result(::syscall(SYS_add_key, nullptr, nullptr, nullptr, 0, -3));
    else if (!std::strcmp(name, "open_by_handle_at"))  // a bad mount fd: EBADF if allowed
        err = result(::syscall(SYS_open_by_handle_at, -1, nullptr, 0));
    else if (!std::strcmp(name, "bpf"))  // a bad command: EINVAL if allowed
        err = result(::syscall(SYS_bpf, -1, nullptr, 0));
    else if (!std::strcmp(name, "audit-socket"))  // socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)
        err = result(::syscall(SYS_socket, 16, 3, 9));
#if defined(__x86_64__)
    // The x32 ABI: native syscall instruction, numbers with bit 30 set.
    else if (!std::strcmp(name, "x32-swapon"))
        err = result(::syscall(0x40000000 | SYS_swapon, nullptr, 0));
    else if (!std::strcmp(name, "x32-getpid"))
        err = result(::syscall(0x40000000 | SYS_getpid));
    else if (!std::strcmp(name, "int80-getpid")) {
        long r = int80(kX86Getpid);
        err = r < 0 ? -r : 0;
    } else if (!std::strcmp(name, "int80-personality")) {
        long r = int80(kX86Personality, static_cast<long>(arg));
        err = r < 0 && r > -4096 ? -r : 0;
    }
#endif
    else {
        std::fprintf(stderr, "try-syscall: unknown call %s\n", name);
        return 255;
    }
    if (err == 0)
        std::printf("ok\n");
    else
        std::printf("%ld\n", err);
    return static_cast<int>(err);
}
