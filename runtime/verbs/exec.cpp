// `exec`: run a command inside a running container, without nsenter.
//
// The order matters, for reasons of the kernel:
// 1. The parent joins only the container's pid namespace (setns on the leader's pidfd). That
//    decides the namespace of its *children*; the parent itself stays where it is.
// 2. The child is started the way posix_spawn starts one (CLONE_VM | CLONE_VFORK, see
//    sys::clone_vfork). Born in the container's pid namespace, it is visible to the guest from
//    its first instruction, so it first makes itself not dumpable and joins the container's
//    mount, UTS, IPC and network namespaces (its root and cwd become the container's). Then it
//    writes itself into the container's payload cgroup. That must happen with host credentials
//    and in the host's cgroup namespace: cgroup migration checks write access to the common
//    ancestor's cgroup.procs and, inside a cgroup namespace, that both cgroups lie below its
//    root, checks a process that had already joined the container's user or cgroup namespace
//    would fail.
// 3. The child joins the cgroup (and user) namespace with a second setns on the same pidfd,
//    changes directory, enters the Landlock domain and execs. Between clone and execve it only
//    makes system calls; everything it needs was prepared by the parent.
// 4. Nothing of the caller crosses into the container but stdin, stdout and stderr: the exec
//    verb closes every inherited fd before it opens anything, and the child marks what volt-run
//    itself opened close-on-exec; the command gets a session keyring of its own (the caller's
//    would otherwise be reachable through KEY_SPEC_SESSION_KEYRING), no supplementary groups,
//    umask 022, the default personality and the init's resource limits; no_new_privs is set
//    unless asked not to, so a setuid file in the container's tree cannot raise anything.
// 5. Two seccomp filters, as the guest's own processes carry: the one nspawn gives the guest's
//    init (rebuilt by volt-run, seccomp::nspawn_restrictions_profile: exec'd commands do not
//    descend from that init; it also refuses TIOCSTI and TIOCLINUX on the caller's terminal)
//    and the container's profile.
//
// The Landlock ruleset is built by the parent. Its path rules are opened below
// /proc/LEADER/root with RESOLVE_IN_ROOT: that is the container's root in the container's mount
// namespace, so the rules pin the very inodes the command sees, and a symlink in the container
// cannot point a rule at the host. Paths the container lacks are skipped and reported.
//
// Why not clone3(CLONE_INTO_CGROUP)? clone3 has no glibc wrapper that runs a function on a new
// stack, so it can only be used fork-style, and a fork of this process (page tables, then
// copy-on-write faults in both processes) costs about 0.9 ms here, against 0.1 ms for the
// cgroup.procs write it saves. docs/BENCHMARKS.md has the numbers.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <cstdlib>
#include <cstring>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/exec_plan.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/confine.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/target.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "units/systemd.hpp"
#include "units/units.hpp"

namespace volt::runtime {
namespace {

// Namespaces the child joins; CLONE_NEWPID is joined by the parent, CLONE_NEWUSER added when the
// container has its own user namespace.
constexpr int kChildNamespaces =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
// Joined before the cgroup write: with host credentials, outside the container's cgroup
// namespace (see 2. above), but already with the container's root.
constexpr int kJoinedFirst = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
// Signals the parent relays to the command, as a shell would.
constexpr std::array<int, 6> kForwarded = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// What the child reports through the CLOEXEC pipe when it cannot exec (EOF means exec worked).
struct ChildFailure {
    // 1 setns, 2 chdir, 3 execve, 4 joining the cgroup, 5 becoming root, 6 Landlock, 7 seccomp,
    // 8 capabilities, 9 session keyring, 10 closing inherited fds, 11 no_new_privs, 12 dumpable,
    // 13 resource limits, 14 becoming --user, 15 stdio (the pty, /dev/null), 16 the parent died,
    // 17 forking the detached command
    int stage;
    int err;
};

// Everything the child needs, prepared before the clone so that the child only makes syscalls.
struct ChildPlan {
    int leader_pidfd = -1;
    int namespaces = kChildNamespaces;
    // The payload's cgroup.procs on the cgroup2 hierarchy, for a child that was not born in the
    // payload (clone3_vfork failed); -1 when it was.
    int cgroup_procs_fd = -1;
    const char* workdir = "/";
    std::vector<std::string> candidates;  // absolute paths to try, in PATH order
    std::vector<char*> argv;
    std::vector<char*> envp;
    int report_fd = -1;
    int landlock_fd = -1;                  // a ruleset to enforce just before execve
    std::uint64_t cap_bounding = ~0ULL;    // the container's init's bounding set
    const sock_filter* seccomp = nullptr;  // a filter to install last, after Landlock
    std::size_t seccomp_len = 0;
    const sock_filter* nspawn_filter = nullptr;  // nspawn's restrictions of the guest
    std::size_t nspawn_filter_len = 0;
    bool no_new_privs = true;
    // --user: the ids switched to once the capabilities are cut (needs no_new_privs: the
    // filters and the Landlock domain are installed after it, without capabilities).
    bool set_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
    const gid_t* groups = nullptr;
    std::size_t group_count = 0;
    // The pty's slave (-t) or /dev/null (--detach), made the command's stdin, stdout and stderr
    // in a session of its own; -1: the caller's stdio.
    int stdio_fd = -1;
    bool controlling_tty = false;  // stdio_fd becomes the session's controlling terminal
    // Not --detach: the command gets SIGKILL when volt-run dies (PR_SET_PDEATHSIG), and the
    // child checks that volt-run, behind this pidfd, had not died before that was set.
    int parent_pidfd = -1;
    // --detach: the command is a grandchild, whose parent exits at once, so that the container's
    // init adopts it (an orphan goes to the reaper of its dead parent's pid namespace: ours, had
    // volt-run been its parent) and reaps it, and the container's stop never waits on it.
    bool detach = false;
    // The container's init's resource limits where they differ from ours, each also capped at
    // our hard limit: what the child sets when raising a hard limit is refused (no
    // CAP_SYS_RESOURCE, as on our CI machines).
    struct Limit {
        int resource;
        rlimit wanted, capped;
    };
    Limit rlimits[RLIM_NLIMITS] = {};
    int rlimit_count = 0;
};

// The child runs on a stack of its own; the sanitizers' bookkeeping does not know that stack,
// so its code is left uninstrumented (it makes system calls only).
#define VOLT_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

[[noreturn]] VOLT_CHILD_CODE void child_fail(const ChildPlan& plan, int stage, int err) {
    ChildFailure f{stage, err};
    (void)!::write(plan.report_fd, &f, sizeof f);
    ::_exit(127);
}

[[noreturn]] VOLT_CHILD_CODE void run_child(const ChildPlan& plan, const sigset_t& original_mask) {
    // Shares the parent's memory (CLONE_VM): no allocation, no library state, only syscalls.
    auto fail = [&plan](int stage, int err) VOLT_CHILD_CODE { child_fail(plan, stage, err); };
    // From its first instruction the child is visible in the container's pid namespace while it
    // still has host credentials. Not dumpable: the guest may not open its /proc entries (mem,
    // root, fd) or ptrace it without CAP_SYS_PTRACE in the host's user namespace; execve makes
    // the command dumpable again.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail(12, errno);
    ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
    // The container's mount namespace first: root and cwd become the container's, so that the
    // host's file system is never reachable through this process, not even for the moment the
    // cgroup write takes (15–22 ms at times, DESIGN.md).
    if (::setns(plan.leader_pidfd, plan.namespaces & kJoinedFirst) < 0)
        fail(1, errno);
    if (plan.cgroup_procs_fd >= 0 && ::write(plan.cgroup_procs_fd, "0", 1) < 0)
        fail(4, errno);
    if (::setns(plan.leader_pidfd, plan.namespaces & ~kJoinedFirst) < 0)
        fail(1, errno);
    if (plan.detach) {
        // A fork of this child (its memory, a copy of ours, and its stack), born in the
        // container's namespaces and cgroup; it carries on below and reports through the pipe.
        long forked = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
        if (forked < 0)
            fail(17, errno);
        if (forked > 0)
            ::_exit(0);
    }
    // Raw syscalls: glibc's wrappers would try to sync other threads. No supplementary group of
    // the caller's survives; in a user namespace setgroups may be "deny" (and there are none).
    if (::syscall(SYS_setgroups, 0, nullptr) < 0 && !(plan.namespaces & CLONE_NEWUSER))
        fail(5, errno);
    if (plan.namespaces & CLONE_NEWUSER) {
        // Joining a user namespace keeps the host ids, which are unmapped there; become the
        // container's root.
        if (::syscall(SYS_setresgid, 0, 0, 0) < 0 || ::syscall(SYS_setresuid, 0, 0, 0) < 0)
            fail(5, errno);
    }
    // Nor the caller's umask, personality (setarch -R would turn off ASLR) or resource limits:
    // the container init's limits, read by the parent.
    ::umask(022);
    (void)::syscall(SYS_personality, 0 /* PER_LINUX */);
    for (int i = 0; i < plan.rlimit_count; ++i) {
        const auto& l = plan.rlimits[i];
        if (::syscall(SYS_prlimit64, 0, l.resource, &l.wanted, nullptr) < 0 &&
            (errno != EPERM || ::syscall(SYS_prlimit64, 0, l.resource, &l.capped, nullptr) < 0))
            fail(13, errno);
    }
    // The container's capabilities and no more: drop from the bounding set what its init lacks
    // (nspawn drops CAP_SYS_MODULE, CAP_SYS_TIME … for the guest), then cut the effective,
    // permitted and inheritable sets to it.
    for (int cap = 0; cap < 64; ++cap)
        if (!((plan.cap_bounding >> cap) & 1) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break;  // past the kernel's last capability
            fail(8, errno);
        }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct caps[2] = {};
    if (::syscall(SYS_capget, &header, caps) < 0)
        fail(8, errno);
    for (int i = 0; i < 2; ++i) {
        auto keep = static_cast<std::uint32_t>(plan.cap_bounding >> (32 * i));
        caps[i].effective &= keep;
        caps[i].permitted &= keep;
        caps[i].inheritable &= keep;
    }
    if (::syscall(SYS_capset, &header, caps) < 0)
        fail(8, errno);
    if (plan.stdio_fd >= 0) {
        if (::setsid() < 0 || (plan.controlling_tty && ::ioctl(plan.stdio_fd, TIOCSCTTY, 0) < 0))
            fail(15, errno);
        for (int fd = 0; fd < 3; ++fd)
            if (::dup2(plan.stdio_fd, fd) < 0)
                fail(15, errno);
    }
    // --user: the permitted and effective sets empty themselves as the uid leaves 0.
    if (plan.set_user && (::syscall(SYS_setgroups, plan.group_count, plan.groups) < 0 ||
                          ::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) < 0 ||
                          ::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) < 0))
        fail(14, errno);
    // As the user: a directory only it may enter works, one it may not is refused.
    if (::chdir(plan.workdir) < 0)
        fail(2, errno);
    // Set after the last change of credentials, which clears it. Survives execve (no setuid
    // file can run: no_new_privs). volt-run may have died before: then nothing would kill us.
    if (plan.parent_pidfd >= 0) {
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
            fail(16, errno);
        pollfd parent{plan.parent_pidfd, POLLIN, 0};
        if (::poll(&parent, 1, 0) != 0)
            fail(16, ESRCH);
    }
    // A new anonymous session keyring; ENOSYS: a kernel without keys has nothing to leak.
    if (sys::join_new_session_keyring() < 0 && errno != ENOSYS)
        fail(9, errno);
    // Linux 5.11: every fd above stderr closes at execve (the report pipe is close-on-exec
    // already and still works until then).
    if (sys::close_range_cloexec(3) < 0)
        fail(10, errno);
    if (plan.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(11, errno);
    if (plan.landlock_fd >= 0)
        if (int err = landlock::restrict_self(plan.landlock_fd))
            fail(6, err);
    if (plan.nspawn_filter)
        if (int err = seccomp::install(plan.nspawn_filter, plan.nspawn_filter_len))
            fail(7, err);
    if (plan.seccomp)
        if (int err = seccomp::install(plan.seccomp, plan.seccomp_len))
            fail(7, err);
    int last = ENOENT;
    bool denied = false;
    for (const auto& path : plan.candidates) {
        ::execve(path.c_str(), plan.argv.data(), plan.envp.data());
        if (errno == EACCES)
            denied = true;
        else if (errno != ENOENT && errno != ENOTDIR) {
            last = errno;
            break;
        }
    }
    fail(3, denied && last == ENOENT ? EACCES : last);
    ::_exit(127);  // fail() does not return
}

Error child_error(const ChildFailure& f, const ExecOptions& o, const std::string& cmd) {
    switch (f.stage) {
        case 1:
            return Error(f.err, "joining the container's namespaces");
        case 2:
            return Error(f.err, "--workdir " + std::string(o.workdir));
        case 4:
            return Error(f.err, "joining the container's cgroup");
        case 5:
            return Error(f.err, "becoming root in the container's user namespace");
        case 6:
            return Error(f.err, "entering the container's Landlock domain");
        case 7:
            return Error(f.err, "installing the container's seccomp filter");
        case 8:
            return Error(f.err, "limiting capabilities to the container's");
        case 9:
            return Error(f.err, "joining a session keyring of its own");
        case 10:
            return Error(f.err, "closing the caller's file descriptors");
        case 11:
            return Error(f.err, "setting no_new_privs");
        case 12:
            return Error(f.err, "making the child not dumpable");
        case 13:
            return Error(f.err, "setting the container's resource limits");
        case 14:
            return Error(f.err, "becoming --user " + o.user + " in the container");
        case 15:
            return Error(f.err, o.tty ? "making the pty the command's terminal"
                                      : "connecting the command's stdio to /dev/null");
        case 16:
            return Error(f.err, "volt-run was killed while starting the command");
        case 17:
            return Error(f.err, "starting the detached command");
        default:
            break;
    }
    if (f.err == ENOENT)
        return Error(0, cmd + ": command not found", ErrorKind::not_found);
    if (f.err == EACCES || f.err == ENOEXEC || f.err == EPERM || f.err == EISDIR)
        return Error(f.err, cmd + ": cannot execute", ErrorKind::cannot_execute);
    return Error(f.err, cmd, ErrorKind::cannot_execute);
}

// The container's root as its init sees it (/proc/LEADER/root), opened on first use: only what
// the command needs is opened (Landlock rules, account files, the pty).
class RootOf {
  public:
    explicit RootOf(pid_t leader) : leader_(leader) {}
    Result<const rootfs::ContainerRoot*> get() {
        if (!root_) {
            VOLT_TRY_ASSIGN(auto root, rootfs::ContainerRoot::of_process(leader_));
            root_.emplace(std::move(root));
        }
        return &*root_;
    }

  private:
    pid_t leader_;
    std::optional<rootfs::ContainerRoot> root_;
};

// The plan's Landlock ruleset, its path rules resolved inside the container's root (as seen by
// its init). An invalid UniqueFd when there is nothing to enforce.
Result<UniqueFd> exec_ruleset(const ExecPlan& exec, RootOf& roots) {
    const landlock::Plan& plan = exec.landlock;
    const std::string& policy = exec.landlock_policy;
    if (plan.empty()) {
        if (policy != "none")
            log::warn("Landlock policy %s: not enforced, this kernel has no Landlock",
                      policy.c_str());
        return UniqueFd();
    }
    VOLT_TRY_ASSIGN(auto ruleset, landlock::Ruleset::create(plan));
    VOLT_TRY_ASSIGN(const rootfs::ContainerRoot* root, roots.get());
    std::string skipped;
    for (const auto& rule : plan.paths) {
        auto target = root->open_path(rule.path, O_PATH);
        if (!target) {
            if (target.error().code() != ENOENT && target.error().code() != ENOTDIR)
                return std::move(target).error().context("Landlock rule " + rule.path);
            skipped += (skipped.empty() ? "" : ", ") + rule.path;
            continue;
        }
        VOLT_TRY_CTX(ruleset.allow_path(target->get(), rule.rights), "Landlock rule " + rule.path);
    }
    // exec -v says what is enforced, and what the container lacks.
    log::info("Landlock policy %s, ABI %d: %s%s%s", policy.c_str(), plan.abi,
              plan.describe().c_str(),
              skipped.empty() ? "" : "; skipped (not in the container): ", skipped.c_str());
    if (!plan.complete())
        log::warn("Landlock policy %s: %s", policy.c_str(), plan.describe().c_str());
    return ruleset.release();
}

// A pty pair made in the container's devpts, through its root, so that the command's terminal
// is the container's /dev/pts/N. The slave belongs to the user the command runs as (its host id
// when the container has a user namespace of its own); devpts gives it the tty group and mode
// nspawn mounted it with.
struct Pty {
    UniqueFd master, slave;
};

Result<Pty> open_pty(const rootfs::ContainerRoot& root, pid_t leader, bool foreign_users,
                     uid_t uid) {
    // The guest controls what stands at /dev/pts/ptmx: only devpts' own multiplexer is opened,
    // never a device node it planted there (opened by us, it would be the host's device).
    VOLT_TRY_ASSIGN(UniqueFd handle, root.open_path("/dev/pts/ptmx", O_PATH));
    struct ::stat st {};
    struct ::statfs sfs {};
    if (::fstat(handle.get(), &st) < 0 || ::fstatfs(handle.get(), &sfs) < 0)
        return Error::from_errno("the container's /dev/pts/ptmx");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) || sfs.f_type != DEVPTS_SUPER_MAGIC)
        return Error(0, "the container's /dev/pts/ptmx is not a devpts pty multiplexer");
    const std::string reopen = "/proc/self/fd/" + std::to_string(handle.get());
    int m = ::open(reopen.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (m < 0)
        return Error::from_errno("opening the container's /dev/pts/ptmx");
    Pty pty;
    pty.master = UniqueFd(m);
    int unlock = 0;
    if (::ioctl(m, TIOCSPTLCK, &unlock) < 0)
        return Error::from_errno("unlocking the pty");
    // Linux 4.13: the slave from the master itself, never by a path the guest could swap.
    int s = ::ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0)
        return Error::from_errno("opening the pty's slave");
    pty.slave = UniqueFd(s);
    std::optional<std::uint32_t> owner = uid;
    if (foreign_users) {
        VOLT_TRY_ASSIGN(std::string map,
                        fs::read_file("/proc/" + std::to_string(leader) + "/uid_map"));
        owner = proc::map_id(map, uid);
        if (!owner)
            return Error(0, "uid " + std::to_string(uid) +
                                " is not mapped in the container's user namespace");
    }
    if (::fchown(s, *owner, static_cast<gid_t>(-1)) < 0)
        return Error::from_errno("giving the pty to uid " + std::to_string(uid));
    return pty;
}

// The caller's window size (of whichever of its stdio is a terminal) onto the pty.
void copy_window_size(int master) {
    winsize ws{};
    for (int fd = 0; fd < 3; ++fd)
        if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
            (void)::ioctl(master, TIOCSWINSZ, &ws);
            return;
        }
}

// The caller's terminal in raw mode while the command runs (keys go to the command, the
// command's terminal does the echoing), restored on every way out of exec.
class RawTerminal {
  public:
    explicit RawTerminal(int fd) {
        if (::tcgetattr(fd, &saved_) < 0)
            return;  // not a terminal: nothing to do
        termios raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd, TCSADRAIN, &raw) == 0)
            fd_ = fd;
    }
    ~RawTerminal() {
        if (fd_ >= 0)
            (void)::tcsetattr(fd_, TCSADRAIN, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

  private:
    int fd_ = -1;
    termios saved_{};
};

// Relays between the caller's stdio and the pty until the command exits: stdin to the master
// (with forward_stdin; at its end the pty's end-of-file character), the master to stdout, the
// caller's window size on SIGWINCH, the other forwarded signals to the command. Returns the
// command's exit code once it exited and what it wrote is out.
Result<int> relay(proc::ChildGuard& child, int master, bool forward_stdin,
                  const sigset_t& signals) {
    int sfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
    if (sfd < 0)
        return Error::from_errno("signalfd");
    UniqueFd signal_fd(sfd);
    constexpr std::size_t kChunk = 64 * 1024;
    static char buf[kChunk];
    std::string to_pty;
    bool stdin_open = forward_stdin, pty_open = true, stdout_open = true;
    // Out of the pty into stdout; false at the pty's end (every slave closed: EIO) or nothing
    // more for now.
    auto drain = [&]() {
        for (;;) {
            ssize_t n = ::read(master, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                if (n == 0 || errno != EAGAIN)
                    pty_open = false;
                return;
            }
            if (stdout_open &&
                !fs::write_all(STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(n)),
                               "stdout"))
                stdout_open = false;  // the reader went away; the command still runs
        }
    };
    for (;;) {
        pollfd fds[4] = {{child.pidfd(), POLLIN, 0},
                         {sfd, POLLIN, 0},
                         {pty_open ? master : -1,
                          static_cast<short>(POLLIN | (to_pty.empty() ? 0 : POLLOUT)), 0},
                         {stdin_open && to_pty.size() < kChunk ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si;
            if (::read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGWINCH)
                    copy_window_size(master);
                else
                    (void)sys::pidfd_send_signal(child.pidfd(), static_cast<int>(si.ssi_signo));
            }
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
            drain();
        if ((fds[2].revents & POLLOUT) && !to_pty.empty()) {
            ssize_t n = ::write(master, to_pty.data(), to_pty.size());
            if (n > 0)
                to_pty.erase(0, static_cast<size_t>(n));
            else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                to_pty.clear();  // the pty is gone: nothing more can reach the command
                stdin_open = false;
            }
        }
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                to_pty.append(buf, static_cast<size_t>(n));
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                termios t{};
                if (::tcgetattr(master, &t) == 0)
                    to_pty.push_back(static_cast<char>(t.c_cc[VEOF]));
            }
        }
        if (fds[0].revents & POLLIN) {
            // What the command wrote just before it exited may still be on its way through the
            // pty (the kernel moves it to the master's side in a work item): read on until the
            // pty's end (EIO once every slave is closed, after what was written), or, while
            // something it left in the background still holds the slave, until it falls quiet.
            constexpr int kQuietMs = 250;
            while (pty_open) {
                pollfd p{master, POLLIN, 0};
                int ready = ::poll(&p, 1, kQuietMs);
                if (ready < 0 && errno == EINTR)
                    continue;
                if (ready <= 0)
                    break;
                drain();
            }
            return child.wait();
        }
    }
}

// Waits for the child, relaying the forwarded signals to it; returns its exit code.
Result<int> supervise(proc::ChildGuard& child, const sigset_t& forwarded) {
    int sfd = ::signalfd(-1, &forwarded, SFD_CLOEXEC);
    if (sfd < 0)
        return Error::from_errno("signalfd");
    UniqueFd signals(sfd);
    for (;;) {
        pollfd fds[2] = {{child.pidfd(), POLLIN, 0}, {sfd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("poll");
        }
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo si;
            if (::read(sfd, &si, sizeof si) == sizeof si)
                (void)sys::pidfd_send_signal(child.pidfd(), static_cast<int>(si.ssi_signo));
        }
        if (fds[0].revents & POLLIN)
            return child.wait();
    }
}

// From volt-run's own state: no round trip to anybody.
Result<Target> target_from_state(const std::string& name, const State& state) {
    Target t;
    t.leader = find_leader(state.nspawn_pid);
    if (t.leader <= 0)
        return Error(EAGAIN, "container " + name + " has not started its init yet");
    auto fd = sys::pidfd_open(t.leader);
    if (!fd)
        return std::move(fd).error().context("opening the container's init");
    t.leader_fd = std::move(fd).value();
    // The pidfd is now pinned; make sure it is still nspawn's child and not a recycled pid.
    auto st = proc::stat(t.leader);
    if (!st || st->ppid != state.nspawn_pid)
        return Error(ESRCH, "container " + name + " is stopping");
    // A frozen command would hang until somebody resumes the container: refused at once.
    if (auto cg = cgroup::Cgroup::open(state.cgroup); cg && cg->frozen().value_or(false))
        return Error::usage("container " + name + " is paused; volt-run resume " + name + " first");
    t.payload = state.payload_cgroup();
    t.recorded = state.exec;
    return t;
}

// The cgroup directory below `mount` of a process's cgroup path, cut after its payload/ leaf (a
// systemd guest's init lives further down, in payload/init.scope).
std::string payload_of(const std::string& mount, const std::string& path) {
    constexpr std::string_view leaf = "/payload";
    auto at = path.find(std::string(leaf) + "/");
    return mount + (at == std::string::npos ? path : path.substr(0, at + leaf.size()));
}

// From machined, for a container whose runtime state is missing (another run directory, say)
// while its unit runs it. The leader's pidfd is opened first; the process it pins must be in
// the container's unit and still alive after its cgroup was read, so a recycled pid is refused.
Result<std::optional<Target>> target_from_machined(const Paths& paths, const std::string& name) {
    auto systemd = units::Systemd::connect();
    if (!systemd)
        return std::optional<Target>();
    auto machine = systemd->machine(name);
    if (!machine)
        return std::move(machine).error();
    const std::string unit = units::service_name(name);
    if (!*machine || (*machine)->unit != unit || (*machine)->leader <= 0)
        return std::optional<Target>();
    Target t;
    t.leader = (*machine)->leader;
    auto fd = sys::pidfd_open(t.leader);
    if (!fd)
        return std::move(fd).error().context("opening the container's init");
    t.leader_fd = std::move(fd).value();
    auto text = fs::read_file("/proc/" + std::to_string(t.leader) + "/cgroup");
    auto member =
        text ? cgroup::parse_proc_cgroup(*text) : Result<cgroup::Membership>(text.error());
    if (!member || member->unified.find("/" + unit + "/") == std::string::npos ||
        !proc::pidfd_alive(t.leader_fd.get()))
        return Error(ESRCH, "container " + name + " is stopping");
    auto mounts = cgroup::find_mounts(paths.cgroup_root);
    if (!mounts)
        return std::move(mounts).error();
    t.payload = payload_of(mounts->unified, member->unified);
    return std::optional<Target>(std::move(t));
}

// Whether what boot recorded still describes the container (its spec names the same policy and
// profile, the plan is for the Landlock ABI this exec would use) and is sane: every rule path
// absolute and canonical, as the policy parser makes them. The state lives in the data root, so
// it is checked like any other file there.
bool usable(const ExecConfinement& r, const Spec& spec, int abi) {
    if (!r.recorded() || r.landlock_policy != spec.landlock || r.seccomp_profile != spec.seccomp)
        return false;
    // A plan with nothing to enforce may have been made without asking the kernel.
    if (!r.landlock.empty() && r.landlock.abi != abi)
        return false;
    return std::all_of(r.landlock.paths.begin(), r.landlock.paths.end(), [](const auto& rule) {
        return rule.path.starts_with("/") && !text::has_control(rule.path) &&
               fs::absolute(rule.path) == rule.path;
    });
}

// The most of /etc/passwd or /etc/group exec reads.
constexpr std::size_t kMaxAccountBytes = 4 << 20;

// What plan_exec needs of the running container; reading it changes nothing.
Result<ExecFacts> gather_facts(const Paths& paths, const Spec& spec, const ExecOptions& o,
                               const Target& target, RootOf& roots) {
    ExecFacts f;
    if (needs_account_files(o)) {
        VOLT_TRY_ASSIGN(const rootfs::ContainerRoot* root, roots.get());
        for (auto [file, text] : {std::pair{"/etc/passwd", &f.passwd}, {"/etc/group", &f.group}}) {
            auto read = root->read_file(file, kMaxAccountBytes);
            if (read)
                *text = std::move(read).value();
            else if (read.error().code() != ENOENT)
                return std::move(read).error().context(std::string("the container's ") + file);
        }
    }
    const pid_t leader = target.leader;
    f.payload_cgroup = target.payload;
    f.term = paths.term;
    // One read of the init's status for both capability sets.
    const std::string status_file = "/proc/" + std::to_string(leader) + "/status";
    VOLT_TRY_ASSIGN(std::string status, fs::read_file(status_file));
    auto bounding = proc::capabilities_from(status, "CapBnd");
    auto effective = proc::capabilities_from(status, "CapEff");
    if (!bounding || !effective)
        return Error(EINVAL, "no capability sets in " + status_file);
    f.cap_bounding = *bounding;
    f.cap_effective = *effective;
    for (int r = 0; r < RLIM_NLIMITS; ++r) {
        auto resource = static_cast<__rlimit_resource>(r);
        auto& [theirs, ours] = f.limits[static_cast<size_t>(r)];
        if (::prlimit(leader, resource, nullptr, &theirs) < 0 || ::getrlimit(resource, &ours) < 0)
            return Error::from_errno("reading the resource limits of the container's init");
    }
    auto their_user = proc::namespace_inode(leader, "user");
    auto our_user = proc::namespace_inode(::getpid(), "user");
    f.foreign_user_namespace = their_user && our_user && *their_user != *our_user;
    if (usable(target.recorded, spec, landlock_abi(paths))) {
        f.landlock = target.recorded.landlock;
        f.seccomp_digest = target.recorded.seccomp_digest;
        f.seccomp_foreign_arches = target.recorded.seccomp_foreign_arches;
    } else {
        // Booted without that record (by an older volt-run, or found through machined).
        VOLT_TRY_ASSIGN(f.landlock, landlock_plan(paths, spec, landlock::Part::exec));
    }
    return f;
}

Result<UniqueFd> open_procs(const std::string& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + file);
    return UniqueFd(fd);
}

}  // namespace

Result<std::optional<Target>> running_target(const Paths& paths, const std::string& name) {
    auto state = read_state(paths, name);
    if (!state)
        return std::move(state).error();
    if (*state && open_nspawn(**state)) {
        VOLT_TRY_ASSIGN(Target t, target_from_state(name, **state));
        return std::optional<Target>(std::move(t));
    }
    if (system_bus_present(paths))
        return target_from_machined(paths, name);
    return std::optional<Target>();
}

Result<Target> find_target(const Paths& paths, const std::string& name) {
    VOLT_TRY_ASSIGN(std::optional<Target> target, running_target(paths, name));
    if (!target)
        return Error::usage("container " + name + " is not running");
    return std::move(*target);
}

Result<int> exec(const Paths& paths, const std::string& name, const ExecOptions& o) {
    VOLT_TRY(check_exec_options(o));
    VOLT_TRY_ASSIGN(const Spec spec, load_spec(paths, name));
    VOLT_TRY_ASSIGN(Target target, find_target(paths, name));
    RootOf roots(target.leader);
    VOLT_TRY_ASSIGN(const ExecFacts facts, gather_facts(paths, spec, o, target, roots));
    VOLT_TRY_ASSIGN(ExecPlan exec, plan_exec(spec, o, facts));
    if (log::level() >= log::Level::debug)  // rendered only for -vv: exec is a hot path
        log::debug("exec plan:\n%s", render(exec).c_str());

    // What the plan names, opened and made; the child only makes system calls with it.
    VOLT_TRY_ASSIGN(UniqueFd ruleset, exec_ruleset(exec, roots));
    std::optional<seccomp::Bpf> filter;
    if (exec.seccomp) {
        VOLT_TRY_ASSIGN(filter, exec_filter(paths, spec, *exec.seccomp));
    }
    // The restrictions cover the native architecture alone (killing the others' calls) only
    // beside a profile that kills those calls anyway. The plan took that from the runtime state;
    // the profile's filter has the last word, so that a state saying otherwise never kills the
    // 32-bit programs the profile allows.
    if (!exec.nspawn_filter.foreign_arches && (!filter || filter->foreign_arches)) {
        exec.nspawn_filter.foreign_arches = true;
        exec.nspawn_filter.digest =
            seccomp::nspawn_restrictions_digest(exec.nspawn_filter.options.target.caps, true);
    }
    VOLT_TRY_ASSIGN(const seccomp::Bpf nspawn_filter, exec_filter(paths, spec, exec.nspawn_filter));
    // The payload the child is born in: a directory of the cgroup2 hierarchy.
    UniqueFd cgroup_dir(::open(exec.cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup_dir)
        return Error::from_errno("open " + exec.cgroup);

    ChildPlan plan;
    plan.leader_pidfd = target.leader_fd.get();
    if (exec.join_user_namespace)
        plan.namespaces |= CLONE_NEWUSER;
    plan.workdir = exec.workdir.c_str();
    plan.candidates = exec.candidates;
    for (auto& a : exec.argv)
        plan.argv.push_back(a.data());
    plan.argv.push_back(nullptr);
    for (auto& e : exec.env)
        plan.envp.push_back(e.data());
    plan.envp.push_back(nullptr);
    plan.landlock_fd = ruleset.get();
    plan.cap_bounding = exec.cap_bounding;
    plan.nspawn_filter = nspawn_filter.insns.data();
    plan.nspawn_filter_len = nspawn_filter.insns.size();
    if (filter) {
        plan.seccomp = filter->insns.data();
        plan.seccomp_len = filter->insns.size();
    }
    plan.no_new_privs = exec.no_new_privs;
    if (exec.user) {
        plan.set_user = true;
        plan.uid = exec.user->uid;
        plan.gid = exec.user->gid;
        plan.groups = exec.user->groups.data();
        plan.group_count = exec.user->groups.size();
    }
    std::optional<Pty> pty;
    UniqueFd dev_null, own_pidfd;
    if (exec.tty) {
        VOLT_TRY_ASSIGN(const rootfs::ContainerRoot* root, roots.get());
        VOLT_TRY_ASSIGN(pty, open_pty(*root, target.leader, facts.foreign_user_namespace,
                                      exec.user ? exec.user->uid : 0));
        copy_window_size(pty->master.get());
        plan.stdio_fd = pty->slave.get();
        plan.controlling_tty = true;
    } else if (exec.detach) {
        int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return Error::from_errno("open /dev/null");
        dev_null = UniqueFd(fd);
        plan.stdio_fd = fd;
        plan.detach = true;
    }
    if (!exec.detach) {
        VOLT_TRY_ASSIGN(own_pidfd, sys::pidfd_open(::getpid()));
        plan.parent_pidfd = own_pidfd.get();
    }
    for (const auto& l : exec.limits)
        plan.rlimits[plan.rlimit_count++] = {l.resource, l.wanted, l.capped};

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd report_read(pipe_fds[0]), report_write(pipe_fds[1]);
    plan.report_fd = report_write.get();

#if defined(__SANITIZE_ADDRESS__)
    // LeakSanitizer's exit-time check runs in a helper thread that would be born in the
    // container's pid namespace, unable to see us (it hangs): check now, and not at exit.
    __lsan_do_leak_check();
#endif
    // Linux 5.8+: the pidfd form of setns. Children we create from here on are born in the
    // container's pid namespace; once the child exists, the caller's children are born in its
    // own again (setns to our own active pid namespace is always allowed), so exec leaves the
    // calling process as it found it.
    int own_pid_ns = ::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pid_ns < 0)
        return Error::from_errno("open /proc/self/ns/pid");
    UniqueFd own_pid_ns_fd(own_pid_ns);
    VOLT_TRY_CTX(sys::setns(plan.leader_pidfd, CLONE_NEWPID), "joining pid namespace of " + name);
    struct RestorePidNs {
        int fd;
        ~RestorePidNs() {
            if (::setns(fd, CLONE_NEWPID) < 0)
                log::warn("cannot return to the caller's pid namespace: %s", std::strerror(errno));
        }
    } restore_pid_ns{own_pid_ns};

    sigset_t forwarded, original;
    ::sigemptyset(&forwarded);
    for (int sig : kForwarded)
        ::sigaddset(&forwarded, sig);
    if (exec.tty)
        ::sigaddset(&forwarded, SIGWINCH);
    ::sigprocmask(SIG_BLOCK, &forwarded, &original);

    struct Start {
        const ChildPlan* plan;
        const sigset_t* mask;
    } start{&plan, &original};
    // The child's stack while it shares our memory: it calls a handful of syscalls and execve.
    alignas(64) static char child_stack[64 * 1024];
    int child_pidfd = -1;
    auto child_main = [](void* arg) VOLT_CHILD_CODE -> int {
        auto* s = static_cast<Start*>(arg);
        run_child(*s->plan, *s->mask);
    };
    auto pid = sys::clone3_vfork(child_main, &start, child_stack, sizeof child_stack,
                                 cgroup_dir.get(), &child_pidfd);
    UniqueFd cgroup_procs;
    if (!pid) {
        // A kernel or architecture without it: the child writes itself into the payload.
        log::debug("exec: %s; the child joins the payload through cgroup.procs",
                   pid.error().describe().c_str());
        auto procs = open_procs(exec.cgroup_procs);
        if (!procs) {
            ::sigprocmask(SIG_SETMASK, &original, nullptr);
            return std::move(procs).error();
        }
        cgroup_procs = std::move(*procs);
        plan.cgroup_procs_fd = cgroup_procs.get();
        pid = sys::clone_vfork(child_main, &start, child_stack, sizeof child_stack, &child_pidfd);
    }
    if (!pid) {
        ::sigprocmask(SIG_SETMASK, &original, nullptr);
        return std::move(pid).error();
    }
    proc::ChildGuard child(*pid, UniqueFd(child_pidfd));
    report_write.reset();
    ChildFailure failure{};
    ssize_t n;
    do {
        n = ::read(report_read.get(), &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof failure)) {
        (void)child.wait();
        ::sigprocmask(SIG_SETMASK, &original, nullptr);
        return child_error(failure, o, exec.argv[0]);
    }
    if (exec.detach) {
        // The child only forked the command, which the container's init now has.
        auto forked = child.wait();
        ::sigprocmask(SIG_SETMASK, &original, nullptr);
        if (!forked)
            return std::move(forked).error();
        return 0;
    }
    Result<int> code = 0;
    if (pty) {
        pty->slave.reset();  // the command holds it; the master sees the end once it is gone
        RawTerminal raw(exec.forward_stdin ? STDIN_FILENO : -1);
        code = relay(child, pty->master.get(), exec.forward_stdin, forwarded);
    } else {
        code = supervise(child, forwarded);
    }
    ::sigprocmask(SIG_SETMASK, &original, nullptr);
    return code;
}

}  // namespace volt::runtime
