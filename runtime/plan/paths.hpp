// Where volt-run keeps things. Every directory can be moved (flag or environment variable) so
// tests and alternative installs never touch the real /var/lib/volt or /etc/systemd.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/fault.hpp"

namespace volt::runtime {

// The most volt-run reads of a file it keeps (fs::read_record), far above what it writes: a
// damaged or planted file is refused in one line instead of filling memory.
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;    // spec, state, Landlock policies
inline constexpr std::size_t kMaxProfileBytes = 16 << 20;  // seccomp profiles

// Every folder volt-run uses holds objects of one kind, named by the container (ROOT/containers,
// ROOT/config, RUN, the unit and settings directories), or volt-run's own entries whose names a
// container can never have: they start with '.' (RUN/.netns, ROOT/containers/.NAME.partial), and
// no container name does (validate_name). So no container name ever collides with them.

struct Paths {
    std::string root = "/var/lib/volt";              // --root, VOLT_ROOT
    std::string unit_dir = "/etc/systemd/system";    // --unit-dir, VOLT_UNIT_DIR
    std::string nspawn_dir = "/etc/systemd/nspawn";  // --nspawn-dir, VOLT_NSPAWN_DIR
    std::string run_dir = "/run/volt";               // --run-dir, VOLT_RUN_DIR
    std::string cgroup_root;  // --cgroup-root, VOLT_CGROUP_ROOT (default: found)
    // Not a directory, but host-wide like them: the subnet of voltbr0, which the first container
    // with --network private creates with the subnet's first address as gateway.
    std::string subnet = "10.88.0.0/16";  // --subnet, VOLT_SUBNET

    // The few facts of the environment the runtime uses, read by from_environment() with the
    // paths, so that no library function reads the process environment itself.
    bool invocation_id = false;      // INVOCATION_ID is set: a unit's ExecStart= runs us
    std::string system_bus_address;  // DBUS_SYSTEM_BUS_ADDRESS
    std::string term;                // TERM, which exec'd commands inherit
    // VOLT_LANDLOCK_MAX_ABI: act as a kernel with at most this Landlock ABI would (tests of
    // older kernels); empty for the kernel's own. The CLI refuses anything but a number.
    std::string landlock_max_abi;
    // VOLT_TIMING_FD: a pipe's fd number (3 or above) that boot writes one line per event to,
    // "nspawn-exec NS" right before execve(systemd-nspawn) and "ready NS" (boot --detach) when
    // the guest reported READY=1, NS being CLOCK_MONOTONIC in nanoseconds: what volt-run bench
    // reads. Empty: nothing is written. The CLI refuses anything but such a number, and boot
    // writes only if that fd is open and a pipe or FIFO, so never to a file or terminal that
    // happens to have the number.
    std::string timing_fd;
    // TMPDIR: where volt-run bench makes its scratch data root (it must be absolute there).
    std::string tmp_dir = "/var/tmp";
    // Test only: the fault-injection hook every numbered step of create, boot, stop, delete and
    // update passes through (base/fault.hpp), from VOLT_FAULT and VOLT_FAULT_TRACE. Empty
    // (nothing injected, nothing traced) unless one of them is set.
    fault::Hook fault;

    // Fills every field from its VOLT_* environment variable where that is set (and not empty),
    // verbatim: check_global_path is the CLI's to apply, naming the variable; the environment
    // facts above; and the fault hook (fault::kill_at). Called by the CLI only.
    static Paths from_environment();

    // The container's root file system: ROOT/containers/NAME (the old backend's layout).
    std::string rootfs(const std::string& name) const { return root + "/containers/" + name; }
    // Where create assembles the root file system before renaming it into place.
    std::string rootfs_staging(const std::string& name) const {
        return root + "/containers/." + name + ".partial";
    }
    // The layers of a --rootfs overlay container, beside its root file system (which is then the
    // overlay's mount point, empty on disk): upper/ (the container's changes) and work/ (the
    // kernel's). Not below ROOT/containers/NAME, where the merged tree hides them, and where
    // whatever reads the empty mount point of a stopped container would find them.
    std::string overlay_dir(const std::string& name) const {
        return root + "/containers/." + name + ".overlay";
    }
    std::string images() const { return root + "/images"; }
    // Per-container configuration: spec.json (written last by create: its presence means the
    // container exists) and the lock file.
    std::string config_dir(const std::string& name) const { return root + "/config/" + name; }
    std::string spec_file(const std::string& name) const { return config_dir(name) + "/spec.json"; }
    std::string lock_file(const std::string& name) const { return config_dir(name) + "/lock"; }
    // Held by a boot from its start until nspawn runs (foreground) or reports READY (detached),
    // so that a second boot of a booting container is refused at once.
    std::string boot_lock_file(const std::string& name) const {
        return config_dir(name) + "/boot.lock";
    }
    // create's copy of a custom Landlock policy (--landlock FILE): later edits of FILE do not
    // change a container behind its back.
    std::string landlock_policy(const std::string& name) const {
        return config_dir(name) + "/landlock.policy";
    }
    // The same for a custom seccomp profile (--seccomp FILE).
    std::string seccomp_profile(const std::string& name) const {
        return config_dir(name) + "/seccomp.json";
    }
    // Compiled seccomp filters, keyed by profile, libseccomp, kernel, architecture, options.
    std::string seccomp_cache() const { return root + "/cache/seccomp"; }
    // Runtime state, volatile like the processes it describes.
    std::string state_dir(const std::string& name) const { return run_dir + "/" + name; }
    std::string state_file(const std::string& name) const {
        return state_dir(name) + "/state.json";
    }
    std::string console_log(const std::string& name) const {
        return state_dir(name) + "/console.log";
    }
    // Host-wide network state: the lock all network changes are made under, and one lease file
    // per bridge (BRIDGE.leases).
    std::string network_dir() const { return root + "/network"; }
    std::string network_lock() const { return network_dir() + "/lock"; }
    std::string leases(const std::string& bridge) const {
        return network_dir() + "/" + bridge + ".leases";
    }
    // The container's persistent network namespace (a bind mount). RUN/.netns, not RUN/netns:
    // that is the state directory of a container named netns.
    std::string netns_dir() const { return run_dir + "/.netns"; }
    std::string netns(const std::string& name) const { return netns_dir() + "/" + name; }
    // Which process holds the container's network: a symlink whose target is the pid of its boot
    // (nspawn's once that execs), made under the network lock before any of the network is and
    // removed after all of it. The collection of crashed runs looks at these entries only.
    std::string network_owners_dir() const { return run_dir + "/.netowners"; }
    std::string network_owner(const std::string& name) const {
        return network_owners_dir() + "/" + name;
    }
    // Where earlier versions kept them; only namespace mounts there are collected (see network).
    std::string legacy_netns_dir() const { return run_dir + "/netns"; }
    std::string unit_file(const std::string& name) const;
    std::string nspawn_file(const std::string& name) const {
        return nspawn_dir + "/" + name + ".nspawn";
    }
};

// A global path option's value (--root, --unit-dir, --nspawn-dir, --run-dir, --cgroup-root, or
// the VOLT_* variable named as `option`), canonical: "//" and "/./" collapsed, a trailing '/'
// dropped. A usage error naming option and value (printably) when it is empty, relative, "/",
// holds a ".." component, a control character or invalid UTF-8: such a value would land in the
// unit's ExecStart= and in every path volt-run removes.
Result<std::string> check_global_path(std::string_view option, std::string_view value);

// Every path field of `paths` passes check_global_path (cgroup_root may be empty): what create
// asks of a Paths before it writes a unit from it.
Status check_paths(const Paths& paths);

}  // namespace volt::runtime
