#include "runtime/verbs/bench_peers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"

namespace volt::runtime::bench_detail {

std::uint64_t now_ns() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    for (const auto& s : v)
        out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

Result<UniqueFd> open_fd(const std::string& path, int flags, mode_t mode = 0) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        return Error::from_errno("open " + path);
    return UniqueFd(fd);
}

}  // namespace

Result<Timed> run_timed(const std::vector<std::string>& args, const std::vector<std::string>& env,
                        const std::string& stderr_file, int timing_fd) {
    std::vector<char*> argv = c_strings(args), envp = c_strings(env);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawnattr_init(&attr);
    struct Destroy {
        posix_spawn_file_actions_t* fa;
        posix_spawnattr_t* attr;
        ~Destroy() {
            ::posix_spawn_file_actions_destroy(fa);
            ::posix_spawnattr_destroy(attr);
        }
    } destroy{&fa, &attr};
    ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_addopen(&fa, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0600);
    if (timing_fd >= 0)
        ::posix_spawn_file_actions_adddup2(&fa, timing_fd, 3);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        sigaddset(&defaults, sig);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setpgroup(&attr, 0);
    ::posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    const std::uint64_t start = now_ns();
    pid_t pid = -1;
    if (int err = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data()))
        return Error(err, std::string("posix_spawn ") + argv[0]);
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) < 0)
        if (errno != EINTR)
            return Error::from_errno("waitid");
    return Timed{.code = proc::exit_code_of(info), .ns = now_ns() - start};
}

std::string last_line_of(const std::string& file) {
    auto text = fs::read_record(file, 1 << 20);
    if (!text)
        return "";
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    auto nl = s.rfind('\n');
    s = nl == std::string::npos ? s : s.substr(nl + 1);
    if (s.starts_with("volt-run: "))
        s.erase(0, 10);
    return text::printable(s);
}

Status PeerCgroup::create() const {
    VOLT_TRY(cgroup::Cgroup::create(unified()));
    if (!mounts.named_systemd.empty())
        VOLT_TRY(fs::mkdir_p(named_systemd(), 0755));
    return {};
}

Status PeerCgroup::remove() const {
    if (fs::is_directory(unified())) {
        VOLT_TRY_ASSIGN(auto cg, cgroup::Cgroup::open(unified()));
        if (auto populated = cg.populated(); populated && *populated) {
            VOLT_TRY(cg.kill());
            VOLT_TRY(cg.wait_empty(5000));
        }
        VOLT_TRY(cgroup::remove_tree(unified()));
    }
    if (!mounts.named_systemd.empty())
        VOLT_TRY(cgroup::remove_tree(named_systemd()));
    return {};
}

// ---- bare systemd-nspawn ---------------------------------------------------------------------

Result<std::uint64_t> BareNspawn::boot(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& env, int timeout_s,
                                       const volatile sig_atomic_t* interrupted) {
    VOLT_TRY(cleanup());  // what a failed lifecycle before may have left
    VOLT_TRY(fs::mkdir_p(dir_, 0700));
    VOLT_TRY(cg_.create());

    // bench's notify socket: nspawn forwards the guest's READY=1 (or sends its own) here.
    const std::string sock_path = dir_ + "/notify";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (sock_path.size() >= sizeof addr.sun_path)
        return Error(ENAMETOOLONG, "notify socket " + sock_path + ": path too long (TMPDIR)");
    std::memcpy(addr.sun_path, sock_path.data(), sock_path.size());
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!sock)
        return Error::from_errno("socket");
    ::unlink(sock_path.c_str());
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error::from_errno("bind " + sock_path);
    int one = 1;
    if (::setsockopt(sock.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
        return Error::from_errno("SO_PASSCRED");

    VOLT_TRY_ASSIGN(UniqueFd procs, open_fd(cg_.unified() + "/cgroup.procs", O_WRONLY));
    UniqueFd named_procs;
    if (!cg_.mounts.named_systemd.empty()) {
        VOLT_TRY_ASSIGN(named_procs, open_fd(cg_.named_systemd() + "/cgroup.procs", O_WRONLY));
    }
    VOLT_TRY_ASSIGN(UniqueFd log, open_fd(log_, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    VOLT_TRY_ASSIGN(UniqueFd devnull, open_fd("/dev/null", O_RDONLY));
    int ready_pipe[2], go_pipe[2];
    if (::pipe2(ready_pipe, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd ready_rd(ready_pipe[0]), ready_wr(ready_pipe[1]);
    if (::pipe2(go_pipe, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd go_rd(go_pipe[0]), go_wr(go_pipe[1]);

    std::vector<std::string> full_env = env;
    full_env.push_back("NOTIFY_SOCKET=" + sock_path);
    std::vector<char*> c_argv = c_strings(argv), c_envp = c_strings(full_env);

    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        // The child of a single-threaded bench: into its process group and cgroups, then it
        // waits for the go.
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
            ::signal(sig, SIG_DFL);
        ::dup2(devnull.get(), 0);
        ::dup2(log.get(), 1);
        ::dup2(log.get(), 2);
        char buf[24];
        auto end = std::to_chars(buf, buf + sizeof buf, ::getpid()).ptr;
        for (int fd : {procs.get(), named_procs.get()})
            if (fd >= 0 && ::write(fd, buf, static_cast<size_t>(end - buf)) < 0) {
                std::fprintf(stderr, "volt-run bench: joining the peer's cgroup: %s\n",
                             std::strerror(errno));
                ::_exit(125);
            }
        ::close(go_wr.get());
        if (::write(ready_wr.get(), "r", 1) != 1)
            ::_exit(125);
        char c;
        if (::read(go_rd.get(), &c, 1) != 1)
            ::_exit(125);  // bench gave up
        ::execve(c_argv[0], c_argv.data(), c_envp.data());
        std::fprintf(stderr, "volt-run bench: execve %s: %s\n", c_argv[0], std::strerror(errno));
        ::_exit(127);
    }
    pid_ = pid;
    ready_wr.reset();
    go_rd.reset();
    auto pidfd = sys::pidfd_open(pid);
    if (!pidfd) {
        (void)cleanup();
        return std::move(pidfd).error();
    }
    pidfd_ = std::move(pidfd).value();

    auto failed = [&](Error e) -> Error {
        (void)cleanup();
        return e;
    };
    char c;
    ssize_t n;
    while ((n = ::read(ready_rd.get(), &c, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1)
        return failed(
            Error(0, "the peer's child failed before systemd-nspawn: " + last_line_of(log_)));

    const std::uint64_t start = now_ns();
    if (::write(go_wr.get(), "g", 1) != 1)
        return failed(Error::from_errno("starting systemd-nspawn"));
    go_wr.reset();
    const std::uint64_t deadline = start + static_cast<std::uint64_t>(timeout_s) * 1000000000ULL;
    for (;;) {
        if (interrupted && *interrupted)
            return failed(Error(EINTR, "interrupted"));
        const std::uint64_t now = now_ns();
        if (now >= deadline)
            return failed(Error(ETIMEDOUT, "systemd-nspawn: no READY=1 within " +
                                               std::to_string(timeout_s) + " s"));
        // At most 100 ms a wait: a signal between the check above and poll is seen soon.
        int wait_ms = static_cast<int>(std::min<std::uint64_t>((deadline - now) / 1000000, 100));
        pollfd fds[2] = {{sock.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
        int r = ::poll(fds, 2, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return failed(Error::from_errno("poll"));
        if (fds[0].revents & POLLIN) {
            char msg[4096];
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
            iovec iov{msg, sizeof msg};
            msghdr mh{};
            mh.msg_iov = &iov;
            mh.msg_iovlen = 1;
            mh.msg_control = control;
            mh.msg_controllen = sizeof control;
            ssize_t got = ::recvmsg(sock.get(), &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
            const std::uint64_t at = now_ns();
            if (got > 0 && !(mh.msg_flags & MSG_TRUNC)) {
                const ucred* cred = nullptr;
                for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS &&
                        cm->cmsg_len == CMSG_LEN(sizeof(ucred)))
                        cred = reinterpret_cast<const ucred*>(CMSG_DATA(cm));
                // Only nspawn itself counts; anything else on the socket is ignored.
                if (cred && cred->pid == pid_ &&
                    notify_says_ready(std::string_view(msg, static_cast<size_t>(got))))
                    return std::max<std::uint64_t>(at - start, 1);
            }
        }
        if (fds[1].revents & POLLIN) {
            auto info = sys::waitid_pidfd(pidfd_.get());
            pid_ = -1;
            pidfd_.reset();
            std::string why = last_line_of(log_);
            return failed(Error(0, "systemd-nspawn exited with status " +
                                       std::to_string(info ? proc::exit_code_of(*info) : -1) +
                                       " before READY=1" + (why.empty() ? "" : ": " + why)));
        }
    }
}

Result<std::uint64_t> BareNspawn::stop(int stop_time_s) {
    if (pid_ <= 0)
        return Error(ESRCH, "no bare systemd-nspawn runs");
    const std::uint64_t start = now_ns();
    VOLT_TRY(sys::pidfd_send_signal(pidfd_.get(), SIGTERM));
    bool exited = proc::pidfd_wait_exit(pidfd_.get(), stop_time_s * 1000);
    if (!exited) {
        // As volt-run stop does: the guest killed, so that nspawn exits by itself.
        if (auto payload = cgroup::Cgroup::open(cg_.unified() + "/payload"))
            (void)payload->kill();
        exited = proc::pidfd_wait_exit(pidfd_.get(), 5000);
    }
    if (!exited)
        (void)sys::pidfd_send_signal(pidfd_.get(), SIGKILL);
    auto info = sys::waitid_pidfd(pidfd_.get());
    const std::uint64_t took = now_ns() - start;
    pid_ = -1;
    pidfd_.reset();
    VOLT_TRY(cleanup());
    if (!info)
        return std::move(info).error();
    return std::max<std::uint64_t>(took, 1);
}

Status BareNspawn::cleanup() {
    if (pid_ > 0 && pidfd_) {
        // The guest first, so that nspawn exits by itself and removes its lock files; then
        // everything, nspawn too.
        if (auto payload = cgroup::Cgroup::open(cg_.unified() + "/payload")) {
            (void)payload->kill();
            (void)proc::pidfd_wait_exit(pidfd_.get(), 2000);
        }
        (void)sys::pidfd_send_signal(pidfd_.get(), SIGKILL);
        (void)sys::waitid_pidfd(pidfd_.get());
    }
    pid_ = -1;
    pidfd_.reset();
    ::unlink((dir_ + "/notify").c_str());
    return cg_.remove();
}

// ---- crun ------------------------------------------------------------------------------------

namespace {

// Back in bench's own mount namespace and working directory, whatever happened in crun's. Not
// getting back would leave bench's later verbs in the wrong namespace: that cannot be carried on.
void back_to(int own_ns, int cwd) {
    if (::setns(own_ns, CLONE_NEWNS) < 0 || ::fchdir(cwd) < 0) {
        log::error("bench: returning to its own mount namespace: %s", std::strerror(errno));
        std::abort();
    }
}

}  // namespace

Status Crun::prepare(const std::string& image, const std::vector<std::string>& args) {
    const std::string bundle = dir_ + "/bundle", rootfs = bundle + "/rootfs";
    VOLT_TRY(fs::mkdir_p(rootfs, 0755));
    VOLT_TRY(fs::mkdir_p(state_dir(), 0700));
    VOLT_TRY(fs::write_file_atomic(
        bundle + "/config.json",
        crun_config(
            {.rootfs = rootfs, .hostname = id_, .cgroups_path = cg_.relative, .args = args}),
        0644));
    VOLT_TRY_ASSIGN(own_ns_, open_fd("/proc/self/ns/mnt", O_RDONLY));
    VOLT_TRY_ASSIGN(cwd_, open_fd(".", O_PATH | O_DIRECTORY));
    if (::unshare(CLONE_NEWNS) < 0)
        return Error::from_errno("unshare(CLONE_NEWNS) for crun");
    struct Back {
        int ns, cwd;
        ~Back() { back_to(ns, cwd); }
    } back{own_ns_.get(), cwd_.get()};
    // bench's mounts are private, so these two stay in this namespace.
    if (!cgroup::on_cgroup2("/sys/fs/cgroup") &&
        ::mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) <
            0)
        return Error::from_errno("mounting a cgroup2 on /sys/fs/cgroup for crun");
    if (::mount(image.c_str(), rootfs.c_str(), nullptr, MS_BIND, nullptr) < 0)
        return Error::from_errno("binding " + image + " to " + rootfs);
    if (::mount(nullptr, rootfs.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0)
        return Error::from_errno("making " + rootfs + " read-only");
    VOLT_TRY_ASSIGN(ns_, open_fd("/proc/self/ns/mnt", O_RDONLY));
    return {};
}

Result<Timed> Crun::run(const std::vector<std::string>& words,
                        const std::vector<std::string>& env) {
    if (!ns_)
        return Error(EINVAL, "crun's mount namespace is not prepared");
    std::vector<std::string> argv = {crun_, "--root", state_dir()};
    argv.insert(argv.end(), words.begin(), words.end());
    VOLT_TRY(sys::setns(ns_.get(), CLONE_NEWNS));
    auto t = run_timed(argv, env, dir_ + "/stderr");
    back_to(own_ns_.get(), cwd_.get());
    if (t && t->code != 0) {
        std::string why = last_line_of(dir_ + "/stderr");
        return Error(0, "crun " + words[0] + " failed (exit status " + std::to_string(t->code) +
                            ")" + (why.empty() ? "" : ": " + why));
    }
    return t;
}

Status Crun::start(const std::vector<std::string>& env) {
    VOLT_TRY(remove());
    started_ = true;  // whatever part of it crun made is deleted by remove()
    VOLT_TRY(run({"run", "--detach", "--bundle", dir_ + "/bundle", id_}, env));
    return {};
}

Result<std::uint64_t> Crun::exec(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
    std::vector<std::string> words = {"exec", id_};
    words.insert(words.end(), argv.begin(), argv.end());
    VOLT_TRY_ASSIGN(Timed t, run(words, env));
    return std::max<std::uint64_t>(t.ns, 1);
}

Status Crun::remove() {
    if (started_ && ns_) {
        std::vector<std::string> env;
        (void)run({"delete", "--force", id_}, env);
    }
    started_ = false;
    return cg_.remove();
}

}  // namespace volt::runtime::bench_detail
