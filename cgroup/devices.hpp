// Device access control for a container, in-process: an allow-list of device rules, compiled to
// an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup2 directory, and
// on hybrid hosts written to the v1 `devices` controller as well. Both deny by default: a device
// node the list does not name cannot be opened (read or write) or created (mknod), whatever its
// owner and mode, and whoever made it.
//
// The kernel asks both (devcgroup_check_permission: the cgroup2 program of the task's cgroup and
// its ancestors, then the v1 controller) at open(2) and mknod(2) of a device node. An fd opened
// before is not checked again.
#pragma once

#include <linux/bpf.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace volt::cgroup {

// Access bits, as the kernel's BPF_DEVCG_ACC_* (and the v1 letters m, r, w).
constexpr unsigned kDeviceMknod = BPF_DEVCG_ACC_MKNOD;
constexpr unsigned kDeviceRead = BPF_DEVCG_ACC_READ;
constexpr unsigned kDeviceWrite = BPF_DEVCG_ACC_WRITE;
constexpr unsigned kDeviceAll = kDeviceMknod | kDeviceRead | kDeviceWrite;

struct DeviceRule {
    char type = 'a';                     // 'c' char, 'b' block, 'a' both
    std::optional<std::uint32_t> major;  // nullopt: any ('*')
    std::optional<std::uint32_t> minor;  // nullopt: any ('*')
    unsigned access = 0;                 // kDevice* bits; a request needs all its bits here
    bool operator==(const DeviceRule&) const = default;
};

// One entry of the default allow-list, with its name in a unit's DeviceAllow= ("/dev/null",
// "char-pts") so that the unit and the program come from one table.
struct DefaultDevice {
    DeviceRule rule;
    const char* unit_name;
};

// What every container may use: what systemd-nspawn 252 itself allows a container
// (systemd-nspawn@.service: DevicePolicy=closed, whose implicit set is null, zero, full, random,
// urandom, tty and ptmx, plus /dev/net/tun rwm and char-pts rw), and /dev/fuse. README's
// "Device policy" gives the reasons for each.
const std::vector<DefaultDevice>& default_devices();

// "rwm" letters → kDevice* bits; nullopt for an empty string or any other letter.
std::optional<unsigned> parse_access(std::string_view letters);
// kDevice* bits → letters, in the order r, w, m ("rwm", "rw").
std::string access_letters(unsigned access);

// The rule of a device node on this host (stat(2): a symlink such as /dev/disk/by-id/… names its
// target): its type, major and minor, with the given access. ENOENT when it does not exist, ENODEV
// for anything but a char or block device.
Result<DeviceRule> rule_for_node(const std::string& path, unsigned access);

// Pure: the eBPF program that lets a (type, major, minor, access) request through when one rule
// covers it, and refuses everything else (returns 0, the kernel's EPERM). Registers: r1 is the
// context (struct bpf_cgroup_dev_ctx), r2–r5 the fields; no helpers are called.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// Pure: the lines for the v1 controller's devices.allow of one rule ("c 1:3 rwm", "c 136:* rw").
// A rule of type 'a' becomes a 'c' and a 'b' line: v1's own "a" would allow everything, whatever
// the access letters.
std::vector<std::string> v1_lines(const DeviceRule& rule);

// Loads device_program(rules) and attaches it to the cgroup2 directory open at cgroup_fd with
// BPF_F_ALLOW_MULTI, after detaching any device program attached there directly before (an
// earlier run's): exactly this policy binds the cgroup, and programs that its descendants attach
// (a guest's systemd) run as well and can only refuse more. The attachment lives as long as the
// cgroup, not the program fd, so it survives our execve into nspawn. Needs CAP_SYS_ADMIN (or
// CAP_BPF) in the initial user namespace; EPERM otherwise, or when an ancestor's program forbids
// programs below it.
Status attach_device_program(int cgroup_fd, const std::vector<DeviceRule>& rules);
// The ids of the device programs attached directly to the cgroup at cgroup_fd.
Result<std::vector<std::uint32_t>> attached_device_programs(int cgroup_fd);

// The v1 devices controller: makes the cgroup at path (and its parents), denies everything
// ("a" to devices.deny) and allows each rule. Deny-all needs a cgroup without child cgroups, which
// ours never has. A rule its parent does not allow is refused by the kernel (EPERM).
Status write_v1_policy(const std::string& path, const std::vector<DeviceRule>& rules);

}  // namespace volt::cgroup
