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
#include <memory>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/interrupt.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "netlink/link.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/rootfs/rootfs.hpp"
#include "runtime/store/state.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/bench_peers.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/image.hpp"

extern char** environ;

namespace volt::runtime {
namespace {

using bench_detail::now_ns;
using bench_detail::run_timed;
using bench_detail::Timed;

// The image an overlay bench's containers are layered on, in the scratch root.
constexpr const char* kLowerImage = "bench-lower";

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

// Whether a peer is to run: installed, and it has not failed yet.
bool active(const BenchPeer* p) {
    return p && p->installed && p->error.empty();
}

// A peer's failure ends that peer, never the bench: its reason (one line) is kept, its samples
// dropped, and it runs no more.
void fail(std::initializer_list<BenchPeer*> peers, const Error& e) {
    for (BenchPeer* p : peers)
        if (active(p)) {
            p->error = e.describe();
            p->samples.clear();
        }
}

void take(BenchPeer* p, const Result<std::uint64_t>& r) {
    if (!active(p))
        return;
    if (r)
        p->samples.push_back(*r);
    else
        fail({p}, r.error());
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

    // Finds the peers' programs and fills each phase's peers (without samples). The crun
    // container's bundle is made here, once; a crun that cannot be set up is reported as failed.
    Status prepare_peers(std::vector<BenchPhase>& phases, const Paths& caller) {
        cp_ = find_program("cp");
        sh_ = find_program("sh");
        ip_ = find_program("ip");
        nsenter_ = find_program("nsenter");
        const std::string crun = find_program("crun");
        const bool nspawn_installed = ::access(kNspawnPath, X_OK) == 0;
        auto peer = [](std::string name, std::string command, bool installed, std::string note) {
            return BenchPeer{.name = std::move(name),
                             .command = std::move(command),
                             .installed = installed,
                             .note = std::move(note),
                             .error = {},
                             .samples = {}};
        };
        VOLT_TRY_ASSIGN(auto mounts, cgroup::find_mounts(caller.cgroup_root));
        VOLT_TRY_ASSIGN(auto self, cgroup::self_membership());
        const std::string rel = self.unified == "/" ? "" : self.unified;
        cg_parent_ = mounts.unified + rel;
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
        phases[kCreatePhase].peers = {peer("cp -a", "cp -a IMG DIR", !cp_.empty(), "")};
        phases[kBootSetupPhase].peers = {
            peer(o_.network == "private" ? "sh + ip" : "sh", boot_cmd,
                 !sh_.empty() && (o_.network != "private" || !ip_.empty()),
                 "less than boot: no network namespace, NAT, lease, Landlock or seccomp")};
        phases[kTimeToReadyPhase].peers = {
            peer("systemd-nspawn --boot",
                 std::string(kNspawnPath) + " --quiet --boot --keep-unit --machine=" + name_ +
                     "-nspawn --directory=COPY-OF-IMG [--register=no] --notify-ready=yes|no "
                     "--private-users=pick|no [--kill-signal=SIGUSR2] " +
                     (o_.network == "private" ? "--network-veth" : "--private-network"),
                 nspawn_installed,
                 "a fresh copy of the image like volt-run's; timed from its execve to READY=1 on "
                 "bench's notify socket, against volt-run's boot --detach spawn to READY=1")};
        phases[kStopPhase].peers = {peer("kill -TERM NSPAWN", "kill -TERM NSPAWN; wait",
                                         nspawn_installed, "the bare nspawn above, halted")};
        const std::string crun_cmd = "crun --root STATE exec " + name_ + "-crun /bin/true";
        const std::string crun_note =
            "a crun container of the image read-only, in its own cgroup (a cgroup2 mounted on "
            "/sys/fs/cgroup for crun on a hybrid host), no user namespace, seccomp, Landlock or "
            "device program";
        const std::string nsenter_note = "no Landlock, seccomp or cgroup join";
        for (auto i : {kFirstExecPhase, kWarmExecPhase})
            phases[i].peers = {peer("nsenter -a", "nsenter -t LEADER -a /bin/true",
                                    !nsenter_.empty(), nsenter_note),
                               peer("crun exec", crun_cmd, !crun.empty(), crun_note)};
        p_cp_ = &phases[kCreatePhase].peers[0];
        p_sh_ = &phases[kBootSetupPhase].peers[0];
        p_bare_ = &phases[kTimeToReadyPhase].peers[0];
        p_bare_stop_ = &phases[kStopPhase].peers[0];
        p_nsenter_first_ = &phases[kFirstExecPhase].peers[0];
        p_nsenter_warm_ = &phases[kWarmExecPhase].peers[0];
        p_crun_first_ = &phases[kFirstExecPhase].peers[1];
        p_crun_warm_ = &phases[kWarmExecPhase].peers[1];
        compare_ = true;

        bare_ = std::make_unique<bench_detail::BareNspawn>(
            dir_ + "/peer-nspawn", bench_detail::PeerCgroup{mounts, rel + "/" + name_ + "-nspawn"});
        if (active(p_crun_first_)) {
            crun_ = std::make_unique<bench_detail::Crun>(
                crun, dir_ + "/peer-crun", name_ + "-crun",
                bench_detail::PeerCgroup{mounts, rel + "/" + name_ + "-crun"});
            if (auto st = crun_->prepare(o_.image, {"sleep", "86400"}); !st)
                fail({p_crun_first_, p_crun_warm_}, st.error());
        }
        return {};
    }

    // Undoes whatever a peer run left: its copy, links, cgroups, bare nspawn and crun
    // container. Quiet; most is usually gone.
    void peer_cleanup() {
        if (!compare_)
            return;
        (void)fs::remove_tree(peer_root());
        if (o_.network == "private") {
            if (auto rt = netlink::RouteSocket::open()) {
                (void)rt->delete_link("vbp-h");
                (void)rt->delete_link("vbp0");
            }
        }
        ::rmdir(cg_peer_.c_str());
        if (bare_)
            if (auto st = bare_->cleanup(); !st)
                log::warn("bench: bare systemd-nspawn: %s", st.error().describe().c_str());
        if (crun_)
            if (auto st = crun_->remove(); !st)
                log::warn("bench: crun container: %s", st.error().describe().c_str());
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
            std::string last = bench_detail::last_line_of(err_file_);
            return Error(0, "volt-run " + words[0] + " failed (exit status " +
                                std::to_string(t.code) + ")" + (last.empty() ? "" : ": " + last));
        }
        return std::max<std::uint64_t>(t.ns, 1);
    }

    // One peer command: its time, or the error naming it.
    Result<std::uint64_t> peer(const std::vector<std::string>& argv) {
        VOLT_TRY_ASSIGN(Timed t, run_timed(argv, env_, err_file_, -1));
        if (t.code != 0) {
            std::string last = bench_detail::last_line_of(err_file_);
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
            log::warn(
                "bench: delete --force %s: %s", name_.c_str(),
                t ? bench_detail::last_line_of(err_file_).c_str() : t.error().describe().c_str());
    }

    // One lifecycle, its samples appended to phases (in kBenchPhases' order).
    Status lifecycle(std::vector<BenchPhase>& phases) {
        auto step = [&](const char* what) -> Status {
            progress_step_ = what;
            show_progress();
            if (InterruptGuard::signal())
                return Error(0, std::string("interrupted by ") + InterruptGuard::signal_name() +
                                    "; the container and the scratch root are removed");
            return {};
        };
        VOLT_TRY(step("create"));
        VOLT_TRY_ASSIGN(auto create, verb({"create", name_, "--image",
                                           o_.rootfs == "overlay" ? kLowerImage : o_.image,
                                           "--network", o_.network, "--rootfs", o_.rootfs}));
        if (active(p_cp_)) {
            VOLT_TRY(step("cp -a"));
            take(p_cp_, peer({cp_, "-a", o_.image, peer_root()}));
        }
        if (active(p_sh_)) {
            VOLT_TRY(step("sh + ip"));
            take(p_sh_, boot_peer());
            cleanup_boot_peer();
        }
        // Bare nspawn boots its copy before volt-run's boot in odd lifecycles and after
        // volt-run's stop in even ones, so neither side always comes first after the copies.
        const bool bare_first = lifecycle_ % 2 == 1;
        if (bare_first)
            VOLT_TRY(bare_nspawn(step));
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
        if (active(p_crun_first_)) {
            VOLT_TRY(step("crun run"));
            if (auto st = crun_->start(env_); !st)
                fail({p_crun_first_, p_crun_warm_}, st.error());
        }
        VOLT_TRY(step("exec"));
        VOLT_TRY_ASSIGN(auto first, verb({"exec", name_, "--", "/bin/true"}));
        std::vector<std::string> nsenter_argv;
        if (active(p_nsenter_first_)) {
            if (auto pid = leader()) {
                nsenter_argv = {nsenter_, "-t", std::to_string(*pid), "-a", "/bin/true"};
                take(p_nsenter_first_, peer(nsenter_argv));
            } else {
                fail({p_nsenter_first_}, pid.error());
            }
            if (!active(p_nsenter_first_))
                fail({p_nsenter_warm_}, Error(0, p_nsenter_first_->error));
        }
        const std::vector<std::string> true_argv = {"/bin/true"};
        if (active(p_crun_first_)) {
            take(p_crun_first_, crun_->exec(true_argv, env_));
            if (!active(p_crun_first_))
                fail({p_crun_warm_}, Error(0, p_crun_first_->error));
        }
        std::vector<std::uint64_t> warm, warm_nsenter, warm_crun;
        for (int i = 0; i < kWarmExecs; ++i) {
            VOLT_TRY_ASSIGN(auto w, verb({"exec", name_, "--", "/bin/true"}));
            warm.push_back(w);
            warm_peer(p_nsenter_warm_, warm_nsenter, [&] { return peer(nsenter_argv); });
            warm_peer(p_crun_warm_, warm_crun, [&] { return crun_->exec(true_argv, env_); });
        }
        if (active(p_nsenter_warm_))
            p_nsenter_warm_->samples.push_back(percentile(warm_nsenter, 50));
        if (active(p_crun_warm_))
            p_crun_warm_->samples.push_back(percentile(warm_crun, 50));
        if (crun_)
            if (auto st = crun_->remove(); !st)
                fail({p_crun_first_, p_crun_warm_}, st.error());
        VOLT_TRY(step("stop"));
        VOLT_TRY_ASSIGN(auto stopped,
                        verb({"stop", "--time", std::to_string(o_.stop_time), name_}));
        if (!bare_first)
            VOLT_TRY(bare_nspawn(step));
        VOLT_TRY(step("delete"));
        VOLT_TRY_ASSIGN(auto deleted, verb({"delete", name_}));
        (void)fs::remove_tree(peer_root());
        const std::uint64_t samples[] = {create,
                                         std::max<std::uint64_t>(bt.nspawn_exec - boot_start, 1),
                                         std::max<std::uint64_t>(bt.ready - bt.nspawn_exec, 1),
                                         std::max<std::uint64_t>(bt.ready - boot_start, 1),
                                         first,
                                         percentile(warm, 50),
                                         stopped,
                                         deleted};
        static_assert(std::size(samples) == std::size(kBenchPhases));
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
    std::string peer_root() const { return dir_ + "/peer-root"; }

    // The boot set-up peer: sh writing a cgroup, then (private network) the ip commands.
    Result<std::uint64_t> boot_peer() {
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
        return t;
    }
    void cleanup_boot_peer() {
        if (o_.network == "private")
            if (auto rt = netlink::RouteSocket::open()) {
                (void)rt->delete_link("vbp-h");
                (void)rt->delete_link("vbp0");
            }
        ::rmdir(cg_peer_.c_str());
    }

    // One warm exec of a peer, alternating with volt-run's.
    template <typename F>
    void warm_peer(BenchPeer* p, std::vector<std::uint64_t>& samples, F run) {
        if (!active(p))
            return;
        auto t = run();
        if (t)
            samples.push_back(*t);
        else
            fail({p}, t.error());
    }

    // Bare systemd-nspawn --boot of a fresh copy of the image (cp -a's, else copied in-process
    // untimed), to READY and stopped again. Only an interruption is an error.
    template <typename Step>
    Status bare_nspawn(Step& step) {
        if (!active(p_bare_))
            return {};
        VOLT_TRY(step("nspawn"));
        if (!fs::exists(peer_root()))
            if (auto copied = rootfs::copy_tree(o_.image, peer_root()); !copied) {
                fail({p_bare_, p_bare_stop_},
                     std::move(copied).error().context("copying the image for bare nspawn"));
                return {};
            }
        if (bare_argv_.empty()) {
            auto spec = load_spec(scratch_, name_);
            if (!spec) {
                fail({p_bare_, p_bare_stop_}, spec.error());
                return {};
            }
            bare_argv_ = bare_nspawn_argv({.nspawn = kNspawnPath,
                                           .root = peer_root(),
                                           .machine = name_ + "-nspawn",
                                           .init = spec->init,
                                           .private_users = spec->private_users,
                                           .private_network = o_.network == "private",
                                           .system_bus = system_bus_present(scratch_)});
        }
        auto booted = bare_->boot(bare_argv_, env_, 90, InterruptGuard::flag());
        if (!booted) {
            VOLT_TRY(step("nspawn"));  // an interruption ends the run
            fail({p_bare_, p_bare_stop_}, booted.error());
            return {};
        }
        take(p_bare_, booted);
        take(p_bare_stop_, bare_->stop(o_.stop_time));
        return {};
    }

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

    const BenchOptions& o_;
    std::string self_, dir_;
    Paths scratch_;
    std::vector<std::string> env_;
    std::string err_file_, name_;
    int lifecycle_ = 0;
    const char* progress_step_ = "";
    bool compare_ = false;
    std::string cp_, sh_, ip_, nsenter_, cg_parent_, cg_peer_;
    BenchPeer *p_cp_ = nullptr, *p_sh_ = nullptr, *p_bare_ = nullptr, *p_bare_stop_ = nullptr,
              *p_nsenter_first_ = nullptr, *p_nsenter_warm_ = nullptr, *p_crun_first_ = nullptr,
              *p_crun_warm_ = nullptr;
    std::vector<std::string> bare_argv_;
    std::unique_ptr<bench_detail::BareNspawn> bare_;
    std::unique_ptr<bench_detail::Crun> crun_;
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
    InterruptGuard interrupts;

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
        report.phases.push_back({.name = name, .samples = {}, .peers = {}});

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
