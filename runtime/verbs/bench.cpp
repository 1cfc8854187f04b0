// volt-run bench (bench.hpp). Every verb is this binary run as a user runs it: posix_spawn, in a
// process group of its own (a Ctrl-C at the terminal reaches bench alone, which then lets the
// running verb finish and removes everything), stdout on /dev/null, stderr in a scratch file
// whose last line names a failure.
#include "runtime/verbs/bench.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "netlink/link.hpp"
#include "runtime/store/state.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/image.hpp"

extern char** environ;

namespace volt::runtime {
namespace {

// The image an overlay bench's containers are layered on, in the scratch root.
constexpr const char* kLowerImage = "bench-lower";

std::uint64_t now_ns() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) {
    g_signal = sig;
}

// SIGINT, SIGTERM and SIGHUP only set g_signal while bench runs; the caller's handlers come back.
class SignalFlag {
  public:
    SignalFlag() {
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < std::size(kSignals); ++i)
            ::sigaction(kSignals[i], &sa, &old_[i]);
    }
    ~SignalFlag() {
        for (std::size_t i = 0; i < std::size(kSignals); ++i)
            ::sigaction(kSignals[i], &old_[i], nullptr);
    }
    SignalFlag(const SignalFlag&) = delete;
    SignalFlag& operator=(const SignalFlag&) = delete;

  private:
    static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction old_[std::size(kSignals)]{};
};

// The environment of every verb: the caller's without volt-run's own variables (and those that
// would make boot think a unit runs it), then the scratch root's.
std::vector<std::string> verb_environment(const Paths& scratch) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view v(*e);
        if (v.starts_with("VOLT_") || v.starts_with("NOTIFY_SOCKET=") ||
            v.starts_with("INVOCATION_ID="))
            continue;
        env.emplace_back(v);
    }
    env.push_back("VOLT_ROOT=" + scratch.root);
    env.push_back("VOLT_RUN_DIR=" + scratch.run_dir);
    env.push_back("VOLT_UNIT_DIR=" + scratch.unit_dir);
    env.push_back("VOLT_NSPAWN_DIR=" + scratch.nspawn_dir);
    env.push_back("VOLT_SUBNET=" + scratch.subnet);
    if (!scratch.cgroup_root.empty())
        env.push_back("VOLT_CGROUP_ROOT=" + scratch.cgroup_root);
    return env;
}

struct Timed {
    int code = -1;  // exit status, 128+N for signal N
    std::uint64_t ns = 0;
};

// Runs argv with env, timed from posix_spawn until it is reaped. timing_fd, when not -1, becomes
// the child's fd 3.
Result<Timed> run_timed(const std::vector<std::string>& args, const std::vector<std::string>& env,
                        const std::string& stderr_file, int timing_fd) {
    std::vector<char*> argv, envp;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env)
        envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

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

// What boot wrote to the timing pipe: "nspawn-exec NS" and "ready NS".
struct BootTimes {
    std::uint64_t nspawn_exec = 0, ready = 0;
};
BootTimes read_boot_times(int fd) {
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < 4096;)
        text.append(buf, static_cast<size_t>(n));
    BootTimes t;
    for (auto line : fs::split(text, '\n')) {
        auto sp = line.find(' ');
        if (sp == std::string_view::npos)
            continue;
        std::uint64_t v = 0;
        auto value = line.substr(sp + 1);
        if (std::from_chars(value.data(), value.data() + value.size(), v).ec != std::errc())
            continue;
        if (line.substr(0, sp) == "nspawn-exec")
            t.nspawn_exec = v;
        else if (line.substr(0, sp) == "ready")
            t.ready = v;
    }
    return t;
}

// The absolute path of a program in PATH (as a shell finds it), or "" when it is not installed.
std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs =
        path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (auto dir : fs::split(dirs, ':')) {
        if (dir.empty() || dir[0] != '/')
            continue;
        std::string candidate = std::string(dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return "";
}

// Network and mount namespaces of our own, as tests/ns-run makes them: nothing bench builds
// reaches the host's links, nftables or mounts.
Status enter_own_namespaces() {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
        return Error::from_errno(
            "bench runs in network and mount namespaces of its own, and needs root for them: "
            "unshare");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        return Error::from_errno("making the mounts of bench's namespace private");
    VOLT_TRY_ASSIGN(auto rt, netlink::RouteSocket::open());
    unsigned lo = ::if_nametoindex("lo");
    if (lo == 0)
        return Error::from_errno("finding lo");
    VOLT_TRY_CTX(rt.set_up(static_cast<int>(lo)), "bringing lo up");
    return {};
}

class Runner {
  public:
    Runner(const BenchOptions& o, std::string self, std::string dir, Paths scratch)
        : o_(o),
          self_(std::move(self)),
          dir_(std::move(dir)),
          scratch_(std::move(scratch)),
          env_(verb_environment(scratch_)),
          err_file_(dir_ + "/stderr"),
          name_("vb-" + std::to_string(::getpid())) {}

    const std::string& name() const { return name_; }

    // Finds the peers' programs and fills each phase's BenchPeer (without samples).
    Status prepare_peers(std::vector<BenchPhase>& phases, const Paths& caller) {
        cp_ = find_program("cp");
        sh_ = find_program("sh");
        ip_ = find_program("ip");
        nsenter_ = find_program("nsenter");
        auto peer = [](std::string name, std::string command, bool installed, std::string note) {
            return BenchPeer{.name = std::move(name),
                             .command = std::move(command),
                             .installed = installed,
                             .note = installed ? std::move(note) : "not installed",
                             .samples = {}};
        };
        VOLT_TRY_ASSIGN(auto mounts, cgroup::find_mounts(caller.cgroup_root));
        VOLT_TRY_ASSIGN(auto self, cgroup::self_membership());
        cg_parent_ = mounts.unified + (self.unified == "/" ? "" : self.unified);
        cg_peer_ = cg_parent_ + "/" + name_ + "-peer";
        std::string boot_cmd =
            "sh -c 'mkdir CG; echo $$ > CG/cgroup.procs; echo $$ > "
            "PARENT/cgroup.procs; rmdir CG'";
        if (o_.network == "private")
            boot_cmd +=
                " + ip link add vbp0 type bridge; ip link set vbp0 up; ip addr add "
                "10.99.0.1/16 dev vbp0; ip link add vbp-h type veth peer name vbp-c; ip "
                "link set vbp-h master vbp0 up; ip addr add 10.99.0.2/16 dev vbp-c; ip "
                "link set vbp-c up";
        phases[0].peer = peer("cp -a", "cp -a IMG DIR", !cp_.empty(), "");
        phases[1].peer =
            peer(o_.network == "private" ? "sh + ip" : "sh", boot_cmd,
                 !sh_.empty() && (o_.network != "private" || !ip_.empty()),
                 "less than boot: no network namespace, NAT, lease, Landlock or seccomp");
        phases[2].peer = peer("systemd-nspawn --boot", "", true, "not measured yet");
        phases[3].peer = peer("nsenter -a", "nsenter -t LEADER -a /bin/true", !nsenter_.empty(),
                              "no Landlock, seccomp or cgroup join");
        phases[4].peer = *phases[3].peer;
        if (find_program("crun").empty())
            phases[4].peer->note += "; crun exec: not installed";
        else
            phases[4].peer->note += "; crun exec: not measured yet";
        compare_ = true;
        return {};
    }

    // Undoes whatever a peer run left: its copy, links and cgroup. Quiet; most is usually gone.
    void peer_cleanup() {
        if (!compare_)
            return;
        (void)fs::remove_tree(dir_ + "/peer-root");
        if (o_.network == "private") {
            if (auto rt = netlink::RouteSocket::open()) {
                (void)rt->delete_link("vbp-h");
                (void)rt->delete_link("vbp0");
            }
        }
        ::rmdir(cg_peer_.c_str());
    }

    // One verb: its time, or the error naming it and its stderr's last line.
    Result<std::uint64_t> verb(const std::vector<std::string>& words, int timing_fd = -1,
                               const std::vector<std::string>& extra_env = {}) {
        std::vector<std::string> argv = {self_};
        argv.insert(argv.end(), words.begin(), words.end());
        std::vector<std::string> env = env_;
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        VOLT_TRY_ASSIGN(Timed t, run_timed(argv, env, err_file_, timing_fd));
        if (t.code != 0) {
            std::string last = last_stderr_line();
            return Error(0, "volt-run " + words[0] + " failed (exit status " +
                                std::to_string(t.code) + ")" + (last.empty() ? "" : ": " + last));
        }
        return std::max<std::uint64_t>(t.ns, 1);
    }

    // One peer command: its time, or the error naming it.
    Result<std::uint64_t> peer(const std::vector<std::string>& argv) {
        VOLT_TRY_ASSIGN(Timed t, run_timed(argv, env_, err_file_, -1));
        if (t.code != 0) {
            std::string last = last_stderr_line();
            return Error(0, argv[0] + " failed (exit status " + std::to_string(t.code) + ")" +
                                (last.empty() ? "" : ": " + last));
        }
        return std::max<std::uint64_t>(t.ns, 1);
    }

    // The guest's init: nspawn's child (the state records nspawn's pid).
    Result<pid_t> leader() {
        VOLT_TRY_ASSIGN(auto state, read_state(scratch_, name_));
        if (!state || state->nspawn_pid <= 0)
            return Error(ESRCH, "no runtime state of " + name_);
        VOLT_TRY_ASSIGN(auto kids, proc::children(state->nspawn_pid));
        if (kids.empty())
            return Error(ESRCH, "nspawn of " + name_ + " has no child");
        return kids.front();
    }

    // Cleans up whatever of the container exists; quiet, since it may be nothing.
    void remove_container() {
        std::vector<std::string> argv = {self_, "delete", "--force", "--time", "1", name_};
        auto t = run_timed(argv, env_, err_file_, -1);
        if (!t || t->code != 0)
            log::warn("bench: delete --force %s: %s", name_.c_str(),
                      t ? last_stderr_line().c_str() : t.error().describe().c_str());
    }

    // One lifecycle, its samples appended to phases (in kBenchPhases' order).
    Status lifecycle(std::vector<BenchPhase>& phases) {
        auto step = [&](const char* what) -> Status {
            progress_step_ = what;
            show_progress();
            if (g_signal)
                return Error(0, std::string("interrupted by ") +
                                    (g_signal == SIGINT    ? "SIGINT"
                                     : g_signal == SIGTERM ? "SIGTERM"
                                                           : "SIGHUP") +
                                    "; the container and the scratch root are removed");
            return {};
        };
        VOLT_TRY(step("create"));
        VOLT_TRY_ASSIGN(auto create, verb({"create", name_, "--image",
                                           o_.rootfs == "overlay" ? kLowerImage : o_.image,
                                           "--network", o_.network, "--rootfs", o_.rootfs}));
        if (compare_ && phases[0].peer->installed) {
            VOLT_TRY(step("cp -a"));
            VOLT_TRY_ASSIGN(auto t, peer({cp_, "-a", o_.image, dir_ + "/peer-root"}));
            phases[0].peer->samples.push_back(t);
            peer_cleanup();
        }
        if (compare_ && phases[1].peer->installed) {
            VOLT_TRY(step("sh + ip"));
            std::string script =
                "set -e; mkdir \"$1\"; echo $$ > \"$1/cgroup.procs\"; echo $$ > "
                "\"$2/cgroup.procs\"; rmdir \"$1\"";
            VOLT_TRY_ASSIGN(auto t, peer({sh_, "-c", script, "sh", cg_peer_, cg_parent_}));
            if (o_.network == "private") {
                const std::vector<std::vector<std::string>> ip_steps = {
                    {"link", "add", "vbp0", "type", "bridge"},
                    {"link", "set", "vbp0", "up"},
                    {"addr", "add", "10.99.0.1/16", "dev", "vbp0"},
                    {"link", "add", "vbp-h", "type", "veth", "peer", "name", "vbp-c"},
                    {"link", "set", "vbp-h", "master", "vbp0", "up"},
                    {"addr", "add", "10.99.0.2/16", "dev", "vbp-c"},
                    {"link", "set", "vbp-c", "up"}};
                for (const auto& words : ip_steps) {
                    std::vector<std::string> argv = {ip_};
                    argv.insert(argv.end(), words.begin(), words.end());
                    VOLT_TRY_ASSIGN(auto u, peer(argv));
                    t += u;
                }
            }
            phases[1].peer->samples.push_back(t);
            peer_cleanup();
        }
        VOLT_TRY(step("boot"));
        int p[2];
        if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
            return Error::from_errno("pipe");
        UniqueFd rd(p[0]), wr(p[1]);
        // Never fd 3 itself: the child's dup2 onto 3 must clear close-on-exec.
        int high = ::fcntl(wr.get(), F_DUPFD_CLOEXEC, 10);
        if (high < 0)
            return Error::from_errno("fcntl");
        wr.reset(high);
        const std::uint64_t boot_start = now_ns();
        VOLT_TRY(verb({"boot", "--detach", name_}, wr.get(), {"VOLT_TIMING_FD=3"}));
        wr.reset();
        BootTimes bt = read_boot_times(rd.get());
        if (bt.nspawn_exec <= boot_start || bt.ready < bt.nspawn_exec)
            return Error(0, "volt-run boot --detach did not report its timing events");
        VOLT_TRY(step("exec"));
        VOLT_TRY_ASSIGN(auto first, verb({"exec", name_, "--", "/bin/true"}));
        const bool nsenter = compare_ && phases[3].peer->installed;
        std::vector<std::string> nsenter_argv;
        if (nsenter) {
            VOLT_TRY_ASSIGN(pid_t pid, leader());
            nsenter_argv = {nsenter_, "-t", std::to_string(pid), "-a", "/bin/true"};
            VOLT_TRY_ASSIGN(auto t, peer(nsenter_argv));
            phases[3].peer->samples.push_back(t);
        }
        std::vector<std::uint64_t> warm, warm_peer;
        for (int i = 0; i < kWarmExecs; ++i) {
            VOLT_TRY_ASSIGN(auto w, verb({"exec", name_, "--", "/bin/true"}));
            warm.push_back(w);
            if (nsenter) {
                VOLT_TRY_ASSIGN(auto t, peer(nsenter_argv));
                warm_peer.push_back(t);
            }
        }
        if (nsenter)
            phases[4].peer->samples.push_back(percentile(warm_peer, 50));
        VOLT_TRY(step("stop"));
        VOLT_TRY_ASSIGN(auto stopped,
                        verb({"stop", "--time", std::to_string(o_.stop_time), name_}));
        VOLT_TRY(step("delete"));
        VOLT_TRY_ASSIGN(auto deleted, verb({"delete", name_}));
        const std::uint64_t samples[] = {create,
                                         std::max<std::uint64_t>(bt.nspawn_exec - boot_start, 1),
                                         std::max<std::uint64_t>(bt.ready - bt.nspawn_exec, 1),
                                         first,
                                         percentile(warm, 50),
                                         stopped,
                                         deleted};
        for (std::size_t i = 0; i < std::size(samples); ++i)
            phases[i].samples.push_back(samples[i]);
        return {};
    }

    void set_lifecycle(int i) { lifecycle_ = i; }
    void end_progress() {
        if (o_.progress && tty_)
            std::fputs("\n", stderr);
    }

  private:
    void show_progress() {
        if (!o_.progress)
            return;
        if (tty_)
            std::fprintf(stderr, "\rlifecycle %d/%d: %-8s", lifecycle_, o_.iterations,
                         progress_step_);
        else if (std::strcmp(progress_step_, "create") == 0)
            std::fprintf(stderr, "lifecycle %d/%d\n", lifecycle_, o_.iterations);
        std::fflush(stderr);
    }

    std::string last_stderr_line() const {
        auto text = fs::read_record(err_file_, 1 << 20);
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

    const BenchOptions& o_;
    std::string self_, dir_;
    Paths scratch_;
    std::vector<std::string> env_;
    std::string err_file_, name_;
    int lifecycle_ = 0;
    const char* progress_step_ = "";
    bool compare_ = false;
    std::string cp_, sh_, ip_, nsenter_, cg_parent_, cg_peer_;
    bool tty_ = ::isatty(2) == 1;
};

}  // namespace

Result<BenchReport> bench(const Paths& paths, const BenchOptions& o) {
    if (o.rootfs != "copy" && o.rootfs != "overlay")
        return Error::usage("--rootfs: invalid value '" + text::printable(o.rootfs) +
                            "': must be copy or overlay");
    if (o.iterations < 1 || o.iterations > kMaxBenchIterations)
        return Error::usage("--iterations: invalid value '" + std::to_string(o.iterations) +
                            "': must be 1 to " + std::to_string(kMaxBenchIterations));
    if (o.network != "none" && o.network != "private")
        return Error::usage("--network: invalid value '" + text::printable(o.network) +
                            "': must be none or private");
    VOLT_TRY_ASSIGN(std::string image, resolve_image(paths, o.image));
    VOLT_TRY_ASSIGN(std::string self, proc::self_exe());
    VOLT_TRY(enter_own_namespaces());
    // From before the scratch root is made until after it is removed (destroyed after it).
    SignalFlag signals;

    if (!paths.tmp_dir.starts_with('/') || text::has_control(paths.tmp_dir))
        return Error::usage("TMPDIR: invalid value '" + text::printable(paths.tmp_dir) +
                            "': must be an absolute path");
    std::string tmpl = paths.tmp_dir + "/volt-bench.XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        return Error::from_errno("making a scratch directory in " + paths.tmp_dir);
    const std::string dir = tmpl;
    struct RemoveScratch {
        std::string dir;
        ~RemoveScratch() {
            if (auto st = fs::remove_tree(dir); !st)
                log::warn("bench: removing %s: %s", dir.c_str(), st.error().describe().c_str());
        }
    } remove_scratch{dir};
    Paths scratch;
    scratch.root = dir + "/root";
    scratch.run_dir = dir + "/run";
    scratch.unit_dir = dir + "/units";
    scratch.nspawn_dir = dir + "/nspawn";
    scratch.cgroup_root = paths.cgroup_root;
    scratch.subnet = paths.subnet;
    for (const std::string& d : {scratch.unit_dir, scratch.nspawn_dir})
        VOLT_TRY(fs::mkdir_p(d, 0755));

    BenchReport report;
    report.image = image;
    report.network = o.network;
    report.iterations = o.iterations;
    for (const char* name : kBenchPhases)
        report.phases.push_back({.name = name, .samples = {}, .peer = std::nullopt});

    if (o.rootfs == "overlay") {
        auto imported = import_image(scratch, image, kLowerImage);
        if (!imported)
            return std::move(imported).error().context("bench --rootfs overlay: importing " +
                                                       image);
    }
    BenchOptions with_image = o;
    with_image.image = image;
    Runner runner(with_image, self, dir, scratch);
    report.container = runner.name();
    report.compare = o.compare;
    Status st;
    if (o.compare)
        st = runner.prepare_peers(report.phases, paths);
    for (int i = 1; i <= o.iterations && st; ++i) {
        runner.set_lifecycle(i);
        st = runner.lifecycle(report.phases);
    }
    runner.end_progress();
    runner.peer_cleanup();
    if (!st) {
        runner.remove_container();
        return std::move(st).error().context("bench of container " + runner.name());
    }
    return report;
}

}  // namespace volt::runtime
