#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/syscalls.hpp"
#include "cgroup/cgroup.hpp"
#include "landlock/landlock.hpp"
#include "netlink/netns.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/confine.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/devices.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/network.hpp"
#include "runtime/verbs/service.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "units/units.hpp"

extern char** environ;

namespace volt::runtime {
namespace {

struct Placement {
    std::string unified;
    std::string v1;
    bool under_systemd = false;
    // Where the caller was, to move back if boot fails before exec.
    std::string origin_unified;
    std::string origin_v1;
    // The container's cgroup in the v1 devices hierarchy (hybrid hosts), and where we were there.
    std::string devices;
    std::string origin_devices;
};

void undo_placement(const Placement& p);

// Puts the calling process (the future nspawn) into the container's own cgroup. nspawn with
// --keep-unit creates its payload/ and supervisor/ leaves below the cgroup it starts in, so two
// containers started from one cgroup would share them: each container gets a cgroup of its own.
// The device policy goes on it before we join it: the eBPF program always (boot fails closed when
// it cannot be attached), and on hybrid hosts the v1 devices controller as well, unless that
// hierarchy is mounted read-only (inside another container), where the program binds alone, or
// the container runs under its unit, whose own policy systemd writes there.
// A failure after the cgroup was made undoes it all.
Result<Placement> place_self(const Paths& paths, const std::string& name,
                             const std::vector<cgroup::DeviceRule>& devices) {
    auto mounts = cgroup::find_mounts(paths.cgroup_root);
    if (!mounts)
        return std::move(mounts).error();
    auto self = cgroup::self_membership();
    if (!self)
        return std::move(self).error();
    Placement p;
    p.origin_unified = mounts->unified + self->unified;
    if (!mounts->named_systemd.empty() && !self->named_systemd.empty())
        p.origin_v1 = mounts->named_systemd + self->named_systemd;
    auto base = [](const std::string& s) { return s == "/" ? std::string() : s; };
    // Started by the container's own unit with Delegate=yes: the container's cgroup is made
    // inside the unit's, which systemd delegated to us. Its attributes stay systemd's, so the
    // limits go one level down, where nspawn then makes its supervisor/ and payload/ leaves.
    p.under_systemd = inside_own_unit(name, self->unified);
    std::string rel = p.under_systemd ? "/container" : "/volt.slice/volt-hybrid-" + name;
    p.unified = mounts->unified + base(self->unified) + rel;
    auto cg = cgroup::Cgroup::create(p.unified);
    if (!cg)
        return std::move(cg).error().context("creating cgroup");
    auto populated = cg->populated();
    if (!populated)
        return std::move(populated).error();
    if (*populated)
        return Error(EBUSY, "cgroup " + p.unified + " still has processes of an earlier run");
    auto fail = [&](Error err) {
        undo_placement(p);
        return err;
    };
    if (auto st = cgroup::attach_device_program(cg->fd(), devices); !st)
        return fail(std::move(st).error().context("attaching the device policy to " + p.unified +
                                                  " (a container does not boot without one)"));
    // Under its unit the v1 controller is systemd's: it applies the unit's DevicePolicy= and
    // DeviceAllow= (the same list) to the unit's cgroup there, which we are in already.
    if (!p.under_systemd && !mounts->devices.empty() && !self->devices.empty()) {
        p.devices = mounts->devices + base(self->devices) + rel;
        auto st = cgroup::write_v1_policy(p.devices, devices);
        if (!st && st.error().code() == EROFS) {
            log::info(
                "the v1 devices hierarchy %s is read-only here: the eBPF device policy "
                "binds alone",
                mounts->devices.c_str());
            p.devices.clear();
        } else if (!st) {
            return fail(std::move(st).error().context("v1 device policy"));
        } else {
            // nspawn and the guest go one level below the policy: the guest's cgroup namespace
            // is rooted there, and a guest root that mounts the devices hierarchy and writes its
            // own devices.allow can never be granted more than this parent has.
            p.origin_devices = mounts->devices + self->devices;
            if (auto joined = cgroup::create_and_attach(p.devices + "/payload", 0); !joined)
                return fail(std::move(joined).error().context("joining " + p.devices + "/payload"));
        }
    }
    if (!p.origin_v1.empty()) {
        p.v1 = mounts->named_systemd + base(self->named_systemd) + rel;
        if (auto st = cgroup::create_and_attach(p.v1, 0); !st)
            return fail(std::move(st).error().context("joining " + p.v1));
    }
    if (auto st = cg->attach(0); !st)
        return fail(std::move(st).error().context("joining " + p.unified));
    return p;
}

long long now_us() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long now_ms() {
    return now_us() / 1000;
}

void undo_placement(const Placement& p) {
    if (!p.origin_v1.empty())
        (void)cgroup::create_and_attach(p.origin_v1, 0);
    if (!p.origin_devices.empty())
        (void)cgroup::create_and_attach(p.origin_devices, 0);
    (void)cgroup::create_and_attach(p.origin_unified, 0);
    // With the volt.slice parents made for it, where nothing else uses them.
    (void)remove_container_cgroup(p.unified);
    if (!p.v1.empty())
        (void)remove_container_cgroup(p.v1);
    if (!p.devices.empty())
        (void)remove_container_cgroup(p.devices);
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

// Options stored in the spec that this version does not apply, named on every boot so that
// nobody mistakes them for applied.
void warn_unapplied(const Spec& spec) {
    if (!spec.kernel.empty())
        log::warn(
            "%s: --kernel %s is recorded only: a systemd-nspawn container runs on the "
            "host's kernel",
            spec.name.c_str(), spec.kernel.c_str());
}

Status boot_foreground(const Paths& paths, const std::string& name) {
    const long long setup_start = now_us();
    auto locked = lock_and_load(paths, name);
    if (!locked)
        return std::move(locked).error();
    const Spec* spec = &locked->spec;
    auto previous = read_state(paths, name);
    if (!previous)
        return std::move(previous).error();
    if (*previous) {
        if (open_nspawn(**previous))
            return Error::usage("container " + name + " is already running (pid " +
                                std::to_string((*previous)->nspawn_pid) + ")");
        VOLT_TRY_CTX(collect_run(paths, name, **previous), "collecting the previous run");
    }
    if (!fs::is_directory(paths.rootfs(name)))
        return Error(ENOENT, "root file system " + paths.rootfs(name) + " is missing");
    warn_unapplied(*spec);
    // A volume's host path is the one create resolved; a symlink planted there since would bind
    // another host directory. Checked, with the rest of what becomes mounts and settings, before
    // anything is made, so a refusal leaves nothing.
    VOLT_TRY(check_stored_spec(*spec));
    // Decided before anything is made, so that `require` refuses without side effects.
    auto landlock_plan =
        runtime::landlock_plan(paths, *spec, landlock::Part::boot, spec->landlock_mode);
    if (!landlock_plan)
        return std::move(landlock_plan).error();
    // The seccomp filter binds nspawn and the whole guest: evaluated for our own capabilities.
    auto caps = proc::capabilities(::getpid(), "CapEff");
    if (!caps)
        return std::move(caps).error();
    auto filter = seccomp_filter(paths, *spec, *caps);
    if (!filter)
        return std::move(filter).error();

    // The --device nodes' numbers as they are now; a node gone since create refuses the boot.
    auto devices = device_rules(*spec);
    if (!devices)
        return std::move(devices).error();

    auto placement = place_self(paths, name, *devices);
    if (!placement)
        return std::move(placement).error();
    State state;
    if (auto st = write_limits(paths, name, spec->resources, placement->unified,
                               spec->missing_controllers_ok, state.unenforced_controllers,
                               "create the container with --missing-controllers ignore to boot "
                               "without these limits");
        !st) {
        undo_placement(*placement);
        return st;
    }
    // Prepared (lock, lease, names) before the state is written and built after: the recorded
    // state then covers whatever a crash in the middle leaves, for the next boot or delete.
    std::optional<NetworkSetup> network;
    if (builds_network(*spec)) {
        log::debug("network: preparing at %lld us", now_us() - setup_start);
        auto prepared = NetworkSetup::prepare(paths, *spec);
        if (!prepared) {
            undo_placement(*placement);
            return std::move(prepared).error().context("network");
        }
        network.emplace(std::move(prepared).value());
        state.network = network->plan();
    }
    state.nspawn_pid = ::getpid();  // execve keeps the pid: this is nspawn's
    auto self = proc::stat(state.nspawn_pid);
    if (!self) {
        undo_placement(*placement);
        return std::move(self).error();
    }
    state.nspawn_start_time = self->start_time;
    state.cgroup = placement->unified;
    state.cgroup_v1 = placement->v1;
    state.cgroup_devices = placement->devices;
    state.under_systemd = placement->under_systemd;
    state.started = utc_now();
    if (auto st = write_state(paths, name, state); !st) {
        undo_placement(*placement);
        return std::move(st).error();
    }
    // From here on a failure undoes the network too.
    UniqueFd host_netns;  // set once this process moved into the container's network namespace
    auto undo = [&](Error err) {
        if (host_netns && ::setns(host_netns.get(), CLONE_NEWNET) < 0)
            log::warn("cannot return to the host's network namespace: %s", std::strerror(errno));
        network.reset();  // the network lock, which teardown takes again
        if (!state.network.empty())
            if (auto st = teardown_network(paths, name); !st)
                log::warn("%s", st.error().describe().c_str());
        // The state file only: the console log beside it holds this error for boot --detach.
        (void)fs::remove_tree(paths.state_file(name));
        undo_placement(*placement);
        return err;
    };

    BootHost host;
    host.system_bus = system_bus_present();
    if (network) {
        // Each step's end, for tools/bench/boot-setup.sh and whoever wonders where time goes.
        log::debug("network: prepared at %lld us", now_us() - setup_start);
        auto netns = network->build([&](std::string_view step) {
            log::debug("network: %.*s done at %lld us", static_cast<int>(step.size()), step.data(),
                       now_us() - setup_start);
        });
        if (!netns)
            return undo(std::move(netns).error().context("network"));
        network.reset();
        // nspawn starts inside the container's network namespace (see BootHost).
        auto self_netns = netlink::open_current_netns();
        if (!self_netns)
            return undo(std::move(self_netns).error());
        if (auto st = sys::setns(netns->get(), CLONE_NEWNET); !st)
            return undo(std::move(st).error().context("joining " + state.network.netns));
        host_netns = std::move(self_netns).value();
        host.network_prepared = true;
    }
    std::vector<std::string> args = nspawn_argv(*spec, paths, host);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    // Last: the network and scope part of the Landlock policy binds nspawn and the whole guest.
    if (auto st = enter_landlock(*spec, *landlock_plan); !st)
        return undo(std::move(st).error());
    if (*filter) {
        if (int err = seccomp::install((*filter)->insns.data(), (*filter)->insns.size()))
            return undo(Error(err, "installing seccomp profile " + spec->seccomp));
        log::info("seccomp profile %s installed (%zu instructions)", spec->seccomp.c_str(),
                  (*filter)->insns.size());
    }
    // What tools/bench/boot-setup.sh collects: everything boot does before nspawn takes over.
    log::debug("boot set-up took %lld us; exec %s", now_us() - setup_start, args[0].c_str());
    // Nothing the caller had open reaches nspawn and the guest but stdin, stdout and stderr
    // (Linux 5.11; the fds stay usable until execve, so undo still can).
    if (sys::close_range_cloexec(3) < 0)
        return undo(Error::from_errno("marking inherited file descriptors close-on-exec"));
    ::execve(argv[0], argv.data(), environ);
    return undo(Error::from_errno(std::string("exec ") + argv[0]));
}

std::string last_line_of(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text)
        return {};
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

// Forks; the child boots in the foreground with NOTIFY_SOCKET pointing at a socket of ours and
// its output in the console log; we return once nspawn says READY=1, or with the child's error.
Status boot_detached(const Paths& paths, const std::string& name, int timeout_s) {
    VOLT_TRY(load_spec(paths, name));
    {
        // Checked here too (boot_foreground checks again under its own lock) so that a second
        // boot does not truncate the console log of the running one, and a crashed run is
        // collected before its state directory is reused for the log and the notify socket.
        auto lock = lock_container(paths, name);
        if (!lock)
            return std::move(lock).error();
        auto previous = read_state(paths, name);
        if (!previous)
            return std::move(previous).error();
        if (*previous && open_nspawn(**previous))
            return Error::usage("container " + name + " is already running (pid " +
                                std::to_string((*previous)->nspawn_pid) + ")");
        if (*previous)
            VOLT_TRY_CTX(collect_run(paths, name, **previous), "collecting the previous run");
    }
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
    ::unlink(notify_path.c_str());  // from a crashed boot
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error::from_errno("bind " + notify_path);
    // Gone when we return, whatever happens: nspawn only talks to it until READY=1.
    struct Unlink {
        std::string path;
        ~Unlink() { ::unlink(path.c_str()); }
    } unlink_notify{notify_path};

    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        ::setsid();
        int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        ::dup2(devnull, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::setenv("NOTIFY_SOCKET", notify_path.c_str(), 1);
        Status st = boot_foreground(paths, name);
        std::fprintf(stderr, "volt-run: %s\n", st.error().describe().c_str());
        std::fflush(stderr);
        ::_exit(st.error().kind() == ErrorKind::usage ? 2 : 125);
    }
    auto pidfd = sys::pidfd_open(pid);
    if (!pidfd)
        return std::move(pidfd).error();
    proc::ChildGuard child(pid, std::move(pidfd).value());

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
        if (fds[0].revents & POLLIN) {
            char buf[4096];
            ssize_t n = ::recv(s, buf, sizeof buf - 1, 0);
            if (n > 0) {
                std::string msg(buf, static_cast<size_t>(n));
                if (("\n" + msg).find("\nREADY=1") != std::string::npos) {
                    child.release();  // it lives on as the container's nspawn
                    return {};
                }
            }
        }
        if (fds[1].revents & POLLIN) {
            auto code = child.wait();
            std::string why = last_line_of(log_path);
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

}  // namespace

Status boot(const Paths& paths, const std::string& name, const BootOptions& options) {
    if (options.detach)
        return boot_detached(paths, name, options.ready_timeout_seconds);
    return boot_foreground(paths, name);
}

}  // namespace volt::runtime
