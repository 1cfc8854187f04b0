#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/fault.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/steps.hpp"
#include "base/syscalls.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "netlink/netns.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/boot_plan.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/rootfs/overlay.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/confine.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/devices.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/layers.hpp"
#include "runtime/verbs/network.hpp"
#include "runtime/verbs/service.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "units/units.hpp"

extern char** environ;

namespace volt::runtime {
namespace {

long long now_us() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long now_ms() {
    return now_us() / 1000;
}

// The VOLT_TIMING_FD hook (Paths::timing_fd, for volt-run bench): one line "EVENT NS" with
// CLOCK_MONOTONIC in nanoseconds, in one write (a pipe keeps a write of up to PIPE_BUF whole).
// Nothing when it is unset, which costs one test of an empty string; and never to an fd that is
// not a pipe or FIFO, so that a stray number cannot make boot write into a file or terminal.
void timing_event(const Paths& paths, const char* event) {
    if (paths.timing_fd.empty())
        return;
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    int fd = -1;
    const std::string& v = paths.timing_fd;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), fd);
    struct stat st;
    if (ec != std::errc() || end != v.data() + v.size() || fd < 3 || ::fstat(fd, &st) < 0 ||
        !S_ISFIFO(st.st_mode))
        return;
    char line[64];
    int n = std::snprintf(line, sizeof line, "%s %lld\n", event,
                          static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec);
    if (n > 0)
        (void)!::write(fd, line, static_cast<size_t>(n));
}

// Under the container's lock: refuses a container that runs, and collects what a crashed run
// left (its cgroups, network and state).
Status collect_previous_run(const Paths& paths, const std::string& name) {
    // A state write killed before its rename; boot is the only writer, under this lock.
    VOLT_TRY(fs::remove_temporaries(paths.state_file(name)));
    VOLT_TRY_ASSIGN(auto previous, read_state(paths, name));
    if (!previous)
        return {};
    if (open_nspawn(*previous))
        return Error::usage("container " + name + " is already running (pid " +
                            std::to_string(previous->nspawn_pid) + ")");
    VOLT_TRY_CTX(collect_run(paths, name, *previous), "collecting the previous run");
    return {};
}

// What plan_boot needs from the host; reading it changes nothing.
Result<BootFacts> gather_facts(const Paths& paths, const Spec& spec) {
    BootFacts f;
    // Checked before anything is made below it.
    if (!paths.cgroup_root.empty() && !cgroup::on_cgroup2(paths.cgroup_root))
        return Error::usage("--cgroup-root " + paths.cgroup_root +
                            ": not a directory of a cgroup2 file system");
    VOLT_TRY_ASSIGN(auto mounts, cgroup::find_mounts(paths.cgroup_root));
    VOLT_TRY_ASSIGN(auto self, cgroup::self_membership());
    f.mount_unified = mounts.unified;
    f.self_unified = self.unified;
    f.mount_v1 = mounts.named_systemd;
    f.self_v1 = self.named_systemd;
    f.mount_devices = mounts.devices;
    f.self_devices = self.devices;
    f.system_bus = system_bus_present(paths);
    f.invoked_by_systemd = paths.invocation_id;
    VOLT_TRY_ASSIGN(f.landlock_policy, landlock_policy(paths, spec));
    f.landlock_abi = landlock_abi(paths);
    // The --device nodes' numbers as they are now; a node gone since create refuses the boot.
    VOLT_TRY_ASSIGN(f.devices, device_rules(spec));
    return f;
}

// Moves the calling process (the future nspawn) into the cgroup `path` of a v1 hierarchy, making
// it where missing; the undo moves it back to `origin`.
Status join_v1(Steps& steps, const std::string& step, const std::string& path,
               const std::string& origin) {
    return steps.run(
        step,
        [&]() -> Status {
            VOLT_TRY_CTX(cgroup::create_and_join_v1(path), "joining " + path);
            return {};
        },
        [origin] { (void)cgroup::create_and_join_v1(origin); });
}

// What the copy a boot child made of itself to enter its cgroup2 cgroup (join_unified) writes to
// the report pipe first: its own pid, for the parent to follow, since the child is gone.
constexpr std::string_view kHandoff = "handoff ";

// Moves the calling process into the container's cgroup2 cgroup. A write to cgroup.procs may wait
// for an RCU grace period, which on a quiet machine is most of boot's set-up (DESIGN.md §6). So
// where a volt-run parent waits for this process (report_fd, boot --detach and the foreground
// supervisor), we fork a copy born in the cgroup (CLONE_INTO_CGROUP, which only reads the lock
// the write takes), made the parent's child (CLONE_PARENT), and exit; the copy tells the parent
// its pid and returns to go on with the boot. Everything this process holds (locks, fds, the steps
// and their undos) is the copy's. The copy, not this process, writes the record, so that the
// parent learns of it however this process ends. With no such parent (in place, under the unit,
// whose main process we are) or when the fork fails, the write.
Status join_unified(const cgroup::Cgroup& cg, int report_fd) {
    if (report_fd >= 0 && __libc_single_threaded) {
        const pid_t before = ::getpid();
        auto forked = sys::clone3_fork(cg.fd(), true);
        if (forked && *forked == 0) {
            // One write, below PIPE_BUF, before anything else of ours can reach the pipe.
            VOLT_TRY(fs::write_all(report_fd,
                                   std::string(kHandoff) + std::to_string(::getpid()) + "\n",
                                   "the report pipe"));
            // boot --detach made us a session leader; nspawn leads its session as before.
            if (::getsid(0) == before)
                ::setsid();
            log::debug("entered %s by a copy born in it", cg.path().c_str());
            return {};
        }
        // Gone at once, not by returning: on the way back to the fork site the steps' undos and
        // every destructor would run here, on what is the copy's now (its cgroups, state file,
        // network lease). The one _exit below the fork site, for that reason.
        if (forked)
            ::_exit(0);
        log::debug("joining %s by a fork failed (%s): writing cgroup.procs", cg.path().c_str(),
                   forked.error().describe().c_str());
    }
    VOLT_TRY_CTX(cg.attach(0), "joining " + cg.path());
    return {};
}

// Makes the container's cgroups as the plan places them and moves this process into them. The
// device policy goes on before we join: the eBPF program always (boot fails closed when it
// cannot be attached), and on hybrid hosts the v1 devices controller as well, unless that
// hierarchy is mounted read-only (inside another container), where the program binds alone.
// report_fd: see join_unified.
Status place_self(Steps& steps, const BootPlan& plan, Placement& placed, int report_fd) {
    const Placement& p = plan.placement;
    placed = p;
    std::optional<cgroup::Cgroup> cg;
    VOLT_TRY(steps.run(
        "cgroup",
        [&]() -> Status {
            // Only volt.slice and the container's own directory are made, below the caller's
            // cgroup, which must exist: a --cgroup-root whose tree does not hold it would have
            // every missing directory up to it made, and none of them removed again.
            if (!fs::is_directory(p.origin_unified))
                return Error(ENOENT, "cgroup " + p.origin_unified +
                                         ", where this process should be, does not exist");
            // What a failure below made is removed here: the step's undo runs only once it
            // succeeded.
            auto made = cgroup::Cgroup::create(p.unified);
            auto populated = made ? made->populated() : Result<bool>(std::move(made).error());
            if (!populated) {
                (void)remove_container_cgroup(p.unified);
                return std::move(populated).error().context("creating cgroup");
            }
            cg.emplace(std::move(made).value());
            if (*populated)
                return Error(EBUSY,
                             "cgroup " + p.unified + " still has processes of an earlier run");
            return {};
        },
        // With the volt.slice parent made for it, where nothing else uses it.
        [path = p.unified] { (void)remove_container_cgroup(path); }));
    VOLT_TRY(steps.run("device program", [&]() -> Status {
        VOLT_TRY_CTX(cgroup::attach_device_program(cg->fd(), plan.devices),
                     "attaching the device policy to " + p.unified +
                         " (a container does not boot without one)");
        return {};
    }));
    if (!p.devices.empty()) {
        VOLT_TRY(steps.run(
            "v1 device policy",
            [&]() -> Status {
                auto st = cgroup::write_v1_policy(p.devices, plan.devices);
                if (!st && st.error().code() == EROFS) {
                    log::info(
                        "the v1 devices hierarchy is read-only here: the eBPF device policy "
                        "binds alone");
                    placed.devices.clear();
                    return {};
                }
                if (!st)  // the directory may exist by now: the undo runs only after success
                    (void)remove_container_cgroup(p.devices);
                VOLT_TRY_CTX(std::move(st), "v1 device policy");
                return {};
            },
            [&placed] {
                if (!placed.devices.empty())
                    (void)remove_container_cgroup(placed.devices);
            }));
        // nspawn and the guest go one level below the policy: the guest's cgroup namespace is
        // rooted there, and a guest root that mounts the devices hierarchy and writes its own
        // devices.allow can never be granted more than this parent has.
        if (!placed.devices.empty())
            VOLT_TRY(
                join_v1(steps, "join v1 devices", placed.devices + "/payload", p.origin_devices));
    }
    if (!p.v1.empty()) {
        VOLT_TRY(steps.run(
            "v1 cgroup", [] { return Status(); },
            [path = p.v1] { (void)remove_container_cgroup(path); }));
        VOLT_TRY(join_v1(steps, "join v1", p.v1, p.origin_v1));
    }
    return steps.run(
        "join cgroup", [&] { return join_unified(*cg, report_fd); },
        [origin = p.origin_unified] { (void)cgroup::create_and_attach(origin, 0); });
}

// Enforces the boot part of the container's Landlock policy on this process, which becomes
// systemd-nspawn: network and scopes only (file-system rights would forbid nspawn's mounts).
Status enter_landlock(const Spec& spec, const landlock::Plan& plan) {
    if (plan.empty()) {
        log::info("Landlock at boot: nothing to enforce (policy %s)", spec.landlock.c_str());
        return {};
    }
    auto ruleset = landlock::Ruleset::create(plan);
    if (!ruleset)
        return std::move(ruleset).error().context("Landlock at boot");
    if (int err = landlock::restrict_self(ruleset->fd()))
        return Error(err, "landlock_restrict_self");
    log::info("Landlock at boot, policy %s, ABI %d: %s", spec.landlock.c_str(), plan.abi,
              plan.describe().c_str());
    if (!plan.complete())
        log::warn("Landlock at boot, policy %s: %s", spec.landlock.c_str(),
                  plan.describe().c_str());
    return {};
}

// nft_fd: an nftables socket boot's parent keeps open (see NetworkSetup::prepare), or -1.
// report_fd: the pipe to a volt-run parent that waits for this process (see join_unified), or -1.
Status boot_foreground(const Paths& paths, const std::string& name, int nft_fd = -1,
                       int report_fd = -1) {
    const long long setup_start = now_us();
    VOLT_TRY_ASSIGN(auto locked, lock_and_load(paths, name));
    const Spec& spec = locked.spec;
    VOLT_TRY(collect_previous_run(paths, name));
    if (!fs::is_directory(paths.rootfs(name)))
        return Error(ENOENT, "root file system " + paths.rootfs(name) + " is missing");
    // A volume's host path is the one create resolved; a symlink planted there since would bind
    // another host directory. Checked, with the rest of what becomes mounts and settings, before
    // anything is made, so a refusal leaves nothing.
    VOLT_TRY(check_stored_spec(spec));
    VOLT_TRY(refuse_volumes_in_data_root(paths, spec));
    // An overlay container's merged tree, detached (in no mount namespace) until it is attached
    // in this process's own mount namespace right before nspawn's exec: the network's persistent
    // namespace must be bound on the host's side before that, and resolv.conf is written through
    // it. Nothing to undo: it is gone with the last fd, at exit or exec.
    UniqueFd overlay;
    if (spec.rootfs == RootfsMode::overlay) {
        VOLT_TRY_ASSIGN_CTX(overlay, mount_container_overlay(paths, spec),
                            "mounting the root file system");
    }
    VOLT_TRY_ASSIGN(const BootFacts facts, gather_facts(paths, spec));
    // Everything decided before anything is made, so that a refusal has no side effects.
    VOLT_TRY_ASSIGN(const BootPlan plan, plan_boot(spec, paths, facts));
    for (const auto& w : plan.warnings)
        log::warn("%s", w.c_str());
    if (log::level() >= log::Level::debug)  // rendered only for -vv: boot is a hot path
        log::debug("boot plan:\n%s", render(plan).c_str());
    // The seccomp filter binds nspawn and the whole guest: evaluated for our own capabilities.
    VOLT_TRY_ASSIGN(auto caps, proc::capabilities(::getpid(), "CapEff"));
    std::string seccomp_digest;
    VOLT_TRY_ASSIGN(auto filter, seccomp_filter(paths, spec, caps, {}, &seccomp_digest));

    // What the steps make and their undos use: declared before the steps, so that it outlives
    // their rollback (locals are destroyed in reverse order).
    Placement placed;
    State state;
    std::optional<NetworkSetup> network;
    UniqueFd netns, host_netns;
    // Carried out step by step; a failure at any step undoes exactly the steps before it. With
    // -vv each step's start is logged too, for tools/bench/boot-setup.sh and whoever wonders
    // where the time goes (without, the hook is only the fault hook: boot is a hot path).
    fault::Hook hook = fault::prefixed(paths.fault, "boot:");
    if (log::level() >= log::Level::debug)
        hook = [inner = std::move(hook), setup_start](std::string_view step) -> Status {
            log::debug("step %.*s at %lld us", static_cast<int>(step.size()), step.data(),
                       now_us() - setup_start);
            return inner ? inner(step) : Status();
        };
    Steps steps(std::move(hook));
    // The cgroups are recorded before they are made, so that whatever a crash leaves from here
    // on is found by the next boot, stop or delete where this boot made it: below this process's
    // own cgroup, which a later command need not share. No pid yet: nothing is signalled.
    VOLT_TRY(steps.run(
        "record",
        [&]() -> Status {
            State planned;
            planned.cgroup = plan.placement.unified;
            planned.cgroup_v1 = plan.placement.v1;
            planned.cgroup_devices = plan.placement.devices;
            planned.under_systemd = plan.placement.under_systemd;
            planned.started = utc_now();
            return write_state(paths, name, planned);
        },
        [&] {
            (void)fs::remove_tree(paths.state_file(name));
            // The directory too, unless it holds boot --detach's console log.
            ::rmdir(paths.state_dir(name).c_str());
        }));
    VOLT_TRY(place_self(steps, plan, placed, report_fd));
    VOLT_TRY(steps.run("limits", [&] {
        return write_limits(paths, name, spec.resources, placed.unified,
                            plan.missing_controllers_ok, state.unenforced_controllers,
                            "create the container with --missing-controllers ignore to boot "
                            "without these limits");
    }));
    // Prepared (lock, lease, names) before the state is written and built after: the recorded
    // state then covers whatever a crash in the middle leaves, for the next boot or delete.
    if (plan.builds_network) {
        log::debug("network: preparing at %lld us", now_us() - setup_start);
        VOLT_TRY(steps.run("network lease", [&]() -> Status {
            VOLT_TRY_ASSIGN_CTX(auto prepared, NetworkSetup::prepare(paths, spec, nft_fd),
                                "network");
            network.emplace(std::move(prepared));
            if (overlay)
                network->set_root(overlay.get());
            state.network = network->plan();
            return {};
        }));
    }
    VOLT_TRY(steps.run(
        "state",
        [&]() -> Status {
            state.nspawn_pid = ::getpid();  // execve keeps the pid: this is nspawn's
            VOLT_TRY_ASSIGN(auto self, proc::stat(state.nspawn_pid));
            state.nspawn_start_time = self.start_time;
            state.cgroup = placed.unified;
            state.cgroup_v1 = placed.v1;
            state.cgroup_devices = placed.devices;
            state.under_systemd = placed.under_systemd;
            state.started = utc_now();
            // What exec needs, so that it reads no policy and hashes no profile.
            state.exec.landlock_policy = spec.landlock;
            state.exec.landlock = plan.exec_landlock;
            state.exec.seccomp_profile = spec.seccomp;
            state.exec.seccomp_digest = seccomp_digest;
            state.exec.seccomp_foreign_arches = !filter || filter->foreign_arches;
            if (overlay) {
                struct stat st;
                if (::fstat(overlay.get(), &st) < 0)
                    return Error::from_errno("stat the overlay of " + name);
                state.root_dev = st.st_dev;
                state.root_ino = st.st_ino;
            }
            return write_state(paths, name, state);
        },
        // The state file only: the console log beside it holds the error for boot --detach.
        [&] { (void)fs::remove_tree(paths.state_file(name)); }));

    if (network) {
        // Each step's end, for tools/bench/boot-setup.sh and whoever wonders where time goes.
        log::debug("network: prepared at %lld us", now_us() - setup_start);
        VOLT_TRY(steps.run(
            "network",
            [&]() -> Status {
                auto built = network->build(
                    [&](std::string_view step) {
                        log::debug("network: %.*s done at %lld us", static_cast<int>(step.size()),
                                   step.data(), now_us() - setup_start);
                    },
                    fault::prefixed(paths.fault, "boot:network:"));
                network.reset();  // the network lock, which teardown takes again
                if (!built) {
                    // What build made before it failed is gone with its own undo; whatever a
                    // crash of ours would leave, teardown finds by the container's name.
                    (void)teardown_network(paths, name);
                    return std::move(built).error().context("network");
                }
                netns = std::move(built).value();
                return {};
            },
            [&] {
                network.reset();
                if (auto st = teardown_network(paths, name); !st)
                    log::warn("%s", st.error().describe().c_str());
            }));
        // nspawn starts inside the container's network namespace (see BootHost).
        VOLT_TRY_ASSIGN(host_netns, netlink::open_current_netns());
        VOLT_TRY(steps.run(
            "join netns",
            [&]() -> Status {
                VOLT_TRY_CTX(sys::setns(netns.get(), CLONE_NEWNET),
                             "joining " + state.network.netns);
                return {};
            },
            [&] {
                if (::setns(host_netns.get(), CLONE_NEWNET) < 0)
                    log::warn("cannot return to the host's network namespace: %s",
                              std::strerror(errno));
            }));
    }
    std::vector<std::string> args = plan.nspawn_argv;
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    // nspawn is given the mount point, where only this process's mount namespace (which nspawn
    // inherits) has the overlay; the host's never sees it.
    if (overlay) {
        VOLT_TRY(steps.run(
            "overlay", [&] { return rootfs::attach_private(overlay.get(), paths.rootfs(name)); }));
    }
    // Last: the network and scope part of the Landlock policy binds nspawn and the whole guest.
    VOLT_TRY(steps.run("landlock", [&] { return enter_landlock(spec, plan.landlock); }));
    if (filter) {
        VOLT_TRY(steps.run("seccomp", [&]() -> Status {
            if (int err = seccomp::install(filter->insns.data(), filter->insns.size()))
                return Error(err, "installing seccomp profile " + spec.seccomp);
            log::info("seccomp profile %s installed (%zu instructions)", spec.seccomp.c_str(),
                      filter->insns.size());
            return {};
        }));
    }
    // What tools/bench/boot-setup.sh collects: everything boot does before nspawn takes over.
    log::debug("boot set-up took %lld us; exec %s", now_us() - setup_start, args[0].c_str());
    // Nothing the caller had open reaches nspawn and the guest but stdin, stdout and stderr
    // (Linux 5.11; the fds stay usable until execve, so the undos still can).
    VOLT_TRY(steps.run("exec", [&]() -> Status {
        if (sys::close_range_cloexec(3) < 0)
            return Error::from_errno("marking inherited file descriptors close-on-exec");
        timing_event(paths, "nspawn-exec");  // the timing fd, too, is closed by the execve
        ::execve(argv[0], argv.data(), environ);
        return Error::from_errno(std::string("exec ") + argv[0]);
    }));
    return {};  // not reached: execve does not return on success
}

// The last line of the console log, from its last 4 KiB: the log is the guest's output and can
// be any size.
std::string last_line_of(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return {};
    UniqueFd owner(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return {};
    char buf[4096];
    off_t from = std::max<off_t>(0, st.st_size - static_cast<off_t>(sizeof buf));
    ssize_t n = ::pread(fd, buf, sizeof buf, from);
    if (n <= 0)
        return {};
    std::string s(buf, static_cast<size_t>(n));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

// The pid of a hand-off record (join_unified) at the start of text, which it is taken from.
std::optional<pid_t> take_handoff(std::string& text) {
    if (!text.starts_with(kHandoff))
        return std::nullopt;
    const char* digits = text.data() + kHandoff.size();
    const char* end = text.data() + text.size();
    pid_t pid = 0;
    auto [after, ec] = std::from_chars(digits, end, pid);
    if (ec != std::errc() || after == end || *after != '\n' || pid <= 0)
        return std::nullopt;
    text.erase(0, static_cast<size_t>(after + 1 - text.data()));
    return pid;
}

// Whether text, what was read of the report pipe so far, may still become a hand-off record.
bool may_be_handoff(std::string_view text) {
    if (text.size() <= kHandoff.size())
        return kHandoff.starts_with(text);
    return text.starts_with(kHandoff) && text.size() < kHandoff.size() + 12 &&
           text.find_first_not_of("0123456789", kHandoff.size()) == std::string_view::npos;
}

// Whether the boot child handed the boot over to a copy of itself, a child of ours too
// (join_unified); then the copy's pid. Reads the report pipe into `pending` (which child_error
// reads on from) until a record is whole, what came is something else, or the pipe's end. Called
// once the child exited or nspawn said READY, it cannot wait long: the copy writes the record
// before anything else, and without a copy the last writer is gone (exited, or exec'd nspawn).
std::optional<pid_t> await_handoff(int fd, std::string& pending) {
    char buf[64];
    while (may_be_handoff(pending)) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return std::nullopt;
        pending.append(buf, static_cast<size_t>(n));
    }
    return take_handoff(pending);
}

// The error boot_foreground returned in the child, rebuilt from what it wrote to the report
// pipe ("KIND ERRNO MESSAGE") after `text`, what was read of it before; nullopt when it wrote
// nothing (it became nspawn). A hand-off record in front is skipped and its pid put in *handoff.
std::optional<Error> child_error(int fd, std::string text = {}, pid_t* handoff = nullptr) {
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || text.size() > 65536)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    if (auto pid = take_handoff(text); pid && handoff)
        *handoff = *pid;
    int kind = 0, code = 0, used = 0;
    if (text.empty() || std::sscanf(text.c_str(), "%d %d %n", &kind, &code, &used) != 2 ||
        kind < 0 || kind > static_cast<int>(ErrorKind::not_found))
        return std::nullopt;
    return Error(code, text.substr(static_cast<size_t>(used)), static_cast<ErrorKind>(kind));
}

// Whether the container's unit collects this run: boot is its ExecStart= (INVOCATION_ID, in the
// unit's own cgroup), and its ExecStopPost= (volt-run stop) runs however nspawn exits. A process
// of ours left in the unit's cgroup would also break cgroup v2's no-internal-processes rule once
// container/ below it has controllers.
bool collected_by_unit(const Paths& paths, const std::string& name) {
    if (!paths.invocation_id)
        return false;
    auto self = cgroup::self_membership();
    return self && in_own_unit(name, true, self->unified);
}

// The record of an error for the report pipe, which child_error rebuilds.
void report_error(int fd, const Error& e) {
    std::string record = std::to_string(static_cast<int>(e.kind()));
    record.append(" ").append(std::to_string(e.code())).append(" ").append(e.message());
    (void)fs::write_all(fd, record, "the report pipe");
}

// After READY of a boot --detach: leaves behind a process that collects the run once nspawn
// (pid, our unreaped child: the pid names it) exits, however it exits: halted, killed, the guest
// powered off. A hand boot has no unit whose ExecStopPost= would. The reaper is in a session of
// its own, in / and holds nothing but a pidfd of nspawn and the console log as stderr: no lock
// (flock belongs to the open file description, which every inherited fd shares), no notify
// socket, no terminal. It sits in the caller's cgroups, never the container's, so that
// collecting can remove them.
void leave_reaper(const Paths& paths, const std::string& name, pid_t nspawn, int pidfd,
                  int log_fd) {
    auto started = proc::stat(nspawn);
    if (!started) {
        log::warn("no reaper for %s (%s): stop or delete collects its run", name.c_str(),
                  started.error().describe().c_str());
        return;
    }
    pid_t pid = ::fork();
    if (pid < 0)
        log::warn("no reaper for %s (fork: %s): stop or delete collects its run", name.c_str(),
                  std::strerror(errno));
    if (pid != 0)
        return;
    ::setsid();
    (void)!::chdir("/");
    ::prctl(PR_SET_NAME, "volt-reaper");
    int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ::dup2(log_fd, 2);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    if (pidfd != 3)
        ::dup2(pidfd, 3);
    (void)sys::close_range(4);
    (void)proc::pidfd_wait_exit(3, -1);
    Status st = collect_exited_run(paths, name, nspawn, started->start_time);
    if (!st)
        log::warn("collecting the run of %s after its nspawn exited: %s", name.c_str(),
                  st.error().describe().c_str());
    ::_exit(st ? 0 : 1);
}

// Makes `child`, the boot child that handed the boot over, the copy `next` (our child: unreaped,
// its pid names no other process). The boot child is killed (it has nothing left to do but exit)
// and reaped; should the copy's pidfd fail, so is the copy.
Status follow(proc::ChildGuard& child, pid_t next) {
    auto next_fd = sys::pidfd_open(next);
    if (!next_fd) {
        ::kill(next, SIGKILL);
        siginfo_t gone{};
        while (::waitid(P_PID, static_cast<id_t>(next), &gone, WEXITED) < 0 && errno == EINTR) {
        }
        return std::move(next_fd).error();
    }
    child = proc::ChildGuard(next, std::move(next_fd).value());
    return {};
}

// Forks; the child boots in the foreground with NOTIFY_SOCKET pointing at a socket of ours and
// its output in the console log; we return once nspawn says READY=1, or with the child's error.
Status boot_detached(const Paths& paths, const std::string& name, const BootOptions& options) {
    const int timeout_s = options.ready_timeout_seconds;
    VOLT_TRY_ASSIGN(const Spec spec, load_spec(paths, name));
    for (const auto& w : unapplied_options(spec))  // the child's go to the console log
        log::warn("%s", w.c_str());
    {
        // Checked here too (boot_foreground checks again under its own lock) so that a second
        // boot does not truncate the console log of the running one, and a crashed run is
        // collected before its state directory is reused for the log and the notify socket.
        auto lock = lock_container(paths, name);
        if (!lock)
            return std::move(lock).error();
        VOLT_TRY(collect_previous_run(paths, name));
    }
    // The parent's own steps; those of the child are boot_foreground's.
    VOLT_TRY(fault::at(paths.fault, "boot:console log"));
    VOLT_TRY(fs::mkdir_p(paths.state_dir(name), 0700));
    std::string log_path = paths.console_log(name);
    int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return Error::from_errno("open " + log_path);
    UniqueFd log_owner(log_fd);

    int s = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return Error::from_errno("socket");
    UniqueFd sock(s);
    // A socket file, not an abstract address: the Landlock scope abstract-unix-socket forbids a
    // confined nspawn to reach an abstract socket made outside its domain.
    std::string notify_path = paths.state_dir(name) + "/notify";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (notify_path.size() >= sizeof addr.sun_path)
        return Error(ENAMETOOLONG, "notify socket " + notify_path);
    std::memcpy(addr.sun_path, notify_path.data(), notify_path.size());
    VOLT_TRY(fault::at(paths.fault, "boot:notify socket"));
    ::unlink(notify_path.c_str());  // from a crashed boot
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error::from_errno("bind " + notify_path);
    // Gone when we return, whatever happens: nspawn only talks to it until READY=1.
    struct Unlink {
        std::string path;
        ~Unlink() { ::unlink(path.c_str()); }
    } unlink_notify{notify_path};

    // The child's error, whole, if it fails before it becomes nspawn (EOF once it exec'd).
    int report[2];
    if (::pipe2(report, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd report_read(report[0]), report_write(report[1]);
    // The nftables socket the child builds the rules over, kept open here until READY, so that
    // the child's execve is never its last close (netlink::Nftables::adopt). Without one the
    // child opens its own.
    std::optional<netlink::Nftables> nft;
    if (builds_network(spec))
        if (auto opened = netlink::Nftables::open())
            nft.emplace(std::move(opened).value());

    VOLT_TRY(fault::at(paths.fault, "boot:fork"));
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        report_read.reset();
        ::setsid();
        int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::dup2(devnull, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
        Status st = boot_foreground(paths, name, nft ? nft->fd() : -1, report_write.get());
        std::fprintf(stderr, "volt-run: %s\n", st.error().describe().c_str());
        std::fflush(stderr);
        report_error(report_write.get(), st.error());
        ::_exit(1);
    }
    report_write.reset();
    auto pidfd = sys::pidfd_open(pid);
    if (!pidfd)
        return std::move(pidfd).error();
    proc::ChildGuard child(pid, std::move(pidfd).value());
    std::string reported;  // what was read of the report pipe before the child's end
    bool handed_off = false;

    long long deadline = now_ms() + timeout_s * 1000LL;
    for (;;) {
        pollfd fds[2] = {{s, POLLIN, 0}, {child.pidfd(), POLLIN, 0}};
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        int r = ::poll(fds, 2, static_cast<int>(left));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return Error::from_errno("poll");
        // The child that exits to hand the boot over to its copy (join_unified), seen by its exit
        // or, should nspawn be quicker, by READY: the copy wrote its record before it exec'd.
        if (!handed_off && ((fds[1].revents & POLLIN) || (fds[0].revents & POLLIN))) {
            if (auto next = await_handoff(report_read.get(), reported)) {
                VOLT_TRY_CTX(follow(child, *next), "booting " + name);
                pid = *next;
                handed_off = true;
                continue;
            }
        }
        if (fds[0].revents & POLLIN) {
            char buf[4096];
            ssize_t n = ::recv(s, buf, sizeof buf - 1, 0);
            if (n > 0) {
                std::string msg(buf, static_cast<size_t>(n));
                if (("\n" + msg).find("\nREADY=1") != std::string::npos) {
                    timing_event(paths, "ready");
                    child.release();  // it lives on as the container's nspawn
                    if (options.supervise && !collected_by_unit(paths, name))
                        leave_reaper(paths, name, pid, child.pidfd(), log_fd);
                    return {};
                }
            }
        }
        if (fds[1].revents & POLLIN) {
            auto code = child.wait();
            if (auto failed = child_error(report_read.get(), std::move(reported)))
                return std::move(*failed).context("booting " + name);
            std::string why = last_line_of(log_path);
            // A line of volt-run's own (the child's warnings go to the log) is not prefixed
            // twice when main prints this error.
            if (why.starts_with("volt-run: "))
                why.erase(0, 10);
            return Error(0, "booting " + name + " failed (exit status " +
                                std::to_string(code ? *code : -1) + ")" +
                                (why.empty() ? "" : ": " + why) + "; console log: " + log_path);
        }
    }
    // Not READY in time: take the half-booted container down again.
    child.release();
    (void)stop(paths, name, 0);
    return Error(ETIMEDOUT, "booting " + name + ": no READY within " + std::to_string(timeout_s) +
                                " s; stopped it again (console log: " + log_path + ")");
}

// Today's boot without a supervisor: in place (this process becomes nspawn) or --detach.
// nft_fd and report_fd: see boot_foreground.
Status boot_unsupervised(const Paths& paths, const std::string& name, const BootOptions& options,
                         int nft_fd = -1, int report_fd = -1) {
    // One boot at a time, refused at once rather than queued: a second boot --detach would
    // otherwise take over the first one's notify socket and both would fail. The lock is not
    // inherited past execve: a running nspawn holds none (its state refuses a boot), and the
    // detached parent holds it until READY, for the child it forked.
    VOLT_TRY(load_spec(paths, name));
    auto booting = fs::FileLock::acquire(paths.boot_lock_file(name), false);
    if (!booting) {
        if (booting.error().code() == EWOULDBLOCK)
            return Error::usage("container " + name + " is being booted by another volt-run");
        return std::move(booting).error();
    }
    if (options.detach)
        return boot_detached(paths, name, options);
    return boot_foreground(paths, name, nft_fd, report_fd);
}

// A hand boot in the foreground: volt-run stays as nspawn's parent, so that however the run
// ends (Ctrl-C, the guest powering off, a SIGKILL of nspawn) it leaves nothing. The child does
// the whole boot and becomes nspawn, so the pid the state records is nspawn's, as under the
// unit. The parent was forked before any lock was taken or cgroup joined: it holds no lock
// while nspawn runs and stays in the caller's cgroups, which collecting could not remove.
Result<int> boot_supervised(const Paths& paths, const std::string& name,
                            const BootOptions& options) {
    // Blocked before the fork, so that none is lost or ends us before it is handled; the child
    // unblocks them first thing. SIGTTOU too: restoring the terminal below must not stop us.
    sigset_t handled, previous;
    sigemptyset(&handled);
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGTTOU})
        sigaddset(&handled, sig);
    if (::sigprocmask(SIG_BLOCK, &handled, &previous) < 0)
        return Error::from_errno("sigprocmask");
    struct sigaction ignore {
    }, old_int{}, old_quit{};
    ignore.sa_handler = SIG_IGN;
    // Left as the caller had them however we return (pending SIGINTs ignored until then).
    struct Restore {
        sigset_t mask;
        struct sigaction* sig_int;
        struct sigaction* sig_quit;
        bool set = false;
        ~Restore() {
            if (set) {
                ::sigaction(SIGINT, sig_int, nullptr);
                ::sigaction(SIGQUIT, sig_quit, nullptr);
            }
            ::sigprocmask(SIG_SETMASK, &mask, nullptr);
        }
    } restore{previous, &old_int, &old_quit};
    // nspawn puts an interactive terminal in raw mode; killed, it cannot put it back.
    termios tty{};
    const bool restore_tty = ::tcgetattr(0, &tty) == 0;

    int report[2];
    if (::pipe2(report, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd report_read(report[0]), report_write(report[1]);
    // Kept for the child's network set-up, as boot_detached does; the spec is not read here, so
    // it is opened whatever the network (a socket and a bind), and a failure only means the
    // child opens its own.
    std::optional<netlink::Nftables> nft;
    if (auto opened = netlink::Nftables::open())
        nft.emplace(std::move(opened).value());
    const long long fork_start = now_us();
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        // What the supervisor adds in front of boot's set-up (tools/bench/boot-setup.sh).
        log::debug("supervisor: forked in %lld us", now_us() - fork_start);
        report_read.reset();
        Status st =
            boot_unsupervised(paths, name, options, nft ? nft->fd() : -1, report_write.get());
        report_error(report_write.get(), st.error());
        ::_exit(1);
    }
    report_write.reset();
    // The terminal sends Ctrl-C and Ctrl-\ to its whole foreground process group: what they
    // mean is nspawn's to decide (it is in the group); we stay to collect.
    // Unblocked once ignored: a blocked signal is kept pending even while ignored, and would end
    // us when the caller's mask comes back.
    ::sigaction(SIGINT, &ignore, &old_int);
    ::sigaction(SIGQUIT, &ignore, &old_quit);
    restore.set = true;
    sigset_t terminal;
    sigemptyset(&terminal);
    sigaddset(&terminal, SIGINT);
    sigaddset(&terminal, SIGQUIT);
    ::sigprocmask(SIG_UNBLOCK, &terminal, nullptr);
    // The child's error if it failed before it became nspawn (its steps undid what they made);
    // EOF once it exec'd nspawn, or died. A child that handed the boot over to a copy of itself
    // (join_unified) has exited: reaped here, its copy, our child too, is the one to supervise.
    pid_t handoff = 0;
    std::optional<Error> failed = child_error(report_read.get(), {}, &handoff);
    if (handoff > 0) {
        siginfo_t gone{};
        while (::waitid(P_PID, static_cast<id_t>(pid), &gone, WEXITED) < 0 && errno == EINTR) {
        }
        pid = handoff;
    }

    // SIGTERM and SIGHUP (someone ending the boot, the terminal closing) are nspawn's: it halts
    // the guest. The pid is our unreaped child's, so it names nspawn until we reap it.
    sigset_t waited;
    sigemptyset(&waited);
    for (int sig : {SIGTERM, SIGHUP, SIGCHLD})
        sigaddset(&waited, sig);
    siginfo_t exited{};
    for (;;) {
        siginfo_t si;
        int sig = ::sigwaitinfo(&waited, &si);
        if (sig < 0)
            continue;  // EINTR: a stop and continue (Ctrl-Z, fg)
        if (sig != SIGCHLD) {
            ::kill(pid, sig);
            continue;
        }
        exited = {};
        if (::waitid(P_PID, static_cast<id_t>(pid), &exited, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            exited.si_pid == pid)
            break;
    }
    // A SIGTERM or SIGHUP that came as nspawn exited was meant for it, not for us.
    const timespec now{0, 0};
    while (::sigtimedwait(&waited, nullptr, &now) > 0) {
    }
    if (restore_tty)
        ::tcsetattr(0, TCSADRAIN, &tty);
    // Collected while the child is a zombie, whose pid and start time cannot name another
    // process; stop or delete may have collected the run already, then nothing is left to do.
    auto started = proc::stat(pid);
    Status collected = started ? collect_exited_run(paths, name, pid, started->start_time)
                               : Status(std::move(started).error());
    siginfo_t reaped{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED) < 0 && errno == EINTR) {
    }
    const int code = proc::exit_code_of(exited);
    if (failed)
        return std::move(*failed);
    if (!collected)
        return std::move(collected).error().context("collecting the run of " + name +
                                                    " after nspawn exited (exit status " +
                                                    std::to_string(code) + ")");
    log::debug("nspawn of %s exited (exit status %d); its run is collected", name.c_str(), code);
    return code;
}

}  // namespace

Result<int> boot(const Paths& paths, const std::string& name, const BootOptions& options) {
    if (!options.detach && options.supervise && !collected_by_unit(paths, name))
        return boot_supervised(paths, name, options);
    VOLT_TRY(boot_unsupervised(paths, name, options));
    return 0;
}

}  // namespace volt::runtime
