// What systemd-nspawn's built-in filter refuses to the guest, as a profile for exec'd commands.
//
// nspawn (systemd 252, src/nspawn/nspawn-seccomp.c) gives the guest's init an allow-list with
// EPERM as default, plus a second filter that answers socket(AF_NETLINK, *, NETLINK_AUDIT) with
// EAFNOSUPPORT. Commands started by `exec` do not descend from that init, so they would miss
// both. This profile refuses the same calls by name: the groups and calls nspawn's allow-list
// leaves out on purpose (keyrings are not namespaced, bpffs is not, handles open any inode of a
// mounted file system …), those it only allows when the container keeps a capability, and the
// calls its groups do not name. The list was checked against the filters the kernel reports for
// a booted guest (tests/e2e/test_containment.cpp compares every syscall number).
#include <nlohmann/json.hpp>
#include <string>

#include "seccomp-profiles/seccomp.hpp"

namespace volt::seccomp {
namespace {

// Refused whatever the container's capabilities.
constexpr const char* kAlwaysRefused[] = {
    // @cpu-emulation
    "modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old",
    // @keyring: the kernel's keyrings are not namespaced
    "add_key", "keyctl", "request_key",
    // @obsolete
    "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime", "get_kernel_syms",
    "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil", "putpmsg", "query_module",
    "security", "sgetmask", "ssetmask", "stime", "stty", "sysfs", "tuxcall", "ulimit", "uselib",
    "ustat", "vserver",
    // @pkey
    "pkey_alloc", "pkey_free", "pkey_mprotect",
    // @swap
    "swapon", "swapoff",
    // Single calls nspawn names as excluded: bpf (bpffs is not namespaced), file handles (they
    // reach any inode of a file system the container can see), kernel replacement, global
    // notification and profiling interfaces, quotas.
    "bpf", "fanotify_init", "fanotify_mark", "kexec_file_load", "kexec_load", "lookup_dcookie",
    "nfsservctl", "open_by_handle_at", "perf_event_open", "quotactl", "quotactl_fd",
    // In none of the groups nspawn 252 allows (found by comparing the filters, see above).
    "pidfd_getfd", "cachestat", "map_shadow_stack", "futex_wake", "futex_wait", "futex_requeue",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "memfd_secret",
    "process_mrelease"};

struct Gated {
    int capability;  // bit in the bounding set
    const char* name;
};
// Allowed by nspawn only when the container keeps the capability.
constexpr Gated kGated[] = {
    // @clock: CAP_SYS_TIME (25)
    {25, "adjtimex"},
    {25, "clock_adjtime"},
    {25, "clock_adjtime64"},
    {25, "clock_settime"},
    {25, "clock_settime64"},
    {25, "settimeofday"},
    // @module: CAP_SYS_MODULE (16)
    {16, "delete_module"},
    {16, "finit_module"},
    {16, "init_module"},
    // @raw-io: CAP_SYS_RAWIO (17)
    {17, "ioperm"},
    {17, "iopl"},
    {17, "pciconfig_iobase"},
    {17, "pciconfig_read"},
    {17, "pciconfig_write"},
    {17, "s390_pci_mmio_read"},
    {17, "s390_pci_mmio_write"},
    // @memlock: CAP_IPC_LOCK (14)
    {14, "mlock"},
    {14, "mlock2"},
    {14, "mlockall"},
    {14, "munlock"},
    {14, "munlockall"},
    // single calls
    {20, "acct"},              // CAP_SYS_PACCT
    {19, "process_vm_readv"},  // CAP_SYS_PTRACE
    {19, "process_vm_writev"},
    {19, "ptrace"},
    {22, "reboot"},   // CAP_SYS_BOOT
    {34, "syslog"},   // CAP_SYSLOG
    {26, "vhangup"},  // CAP_SYS_TTY_CONFIG
};

constexpr unsigned kAfNetlink = 16;
constexpr unsigned kNetlinkAudit = 9;
constexpr unsigned kEafnosupport = 97;
constexpr unsigned kTiocsti = 0x5412;
constexpr unsigned kTioclinux = 0x541C;

// Bump whenever nspawn_restrictions_profile's output changes for some bounding set (the lists
// above, the rules below): cached filters made from the old text then stop matching.
// tests/unit/test_seccomp.cpp pins the text's hash to this revision.
constexpr int kRestrictionsRevision = 1;

}  // namespace

std::string nspawn_restrictions_digest(std::uint64_t bounding, bool foreign_arches) {
    return "nspawn-restrictions " + std::to_string(kRestrictionsRevision) + "|bounding " +
           std::to_string(bounding) + (foreign_arches ? "" : "|native");
}

std::string nspawn_restrictions_profile(std::uint64_t bounding, bool foreign_arches) {
    using nlohmann::json;
    json names = json::array();
    for (const char* n : kAlwaysRefused)
        names.push_back(n);
    for (const auto& g : kGated)
        if (!((bounding >> g.capability) & 1))
            names.push_back(g.name);
    json arch_map = json::array({
        {{"architecture", "SCMP_ARCH_X86_64"},
         {"subArchitectures", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}}},
        {{"architecture", "SCMP_ARCH_AARCH64"}, {"subArchitectures", {"SCMP_ARCH_ARM"}}},
    });
    json audit_socket = {
        {"names", {"socket"}},
        {"action", "SCMP_ACT_ERRNO"},
        {"errnoRet", kEafnosupport},
        {"args",
         {{{"index", 0}, {"value", kAfNetlink}, {"op", "SCMP_CMP_EQ"}},
          {{"index", 2}, {"value", kNetlinkAudit}, {"op", "SCMP_CMP_EQ"}}}},
    };
    // Not nspawn's, but of the same kind: an exec'd command holds the caller's terminal, and
    // TIOCSTI (type into it) or TIOCLINUX (read or paste the console) would let the guest's
    // binaries drive the shell that ran volt-run. The command is an unsigned int: compare its
    // low 32 bits.
    json tty_injection = {
        {"names", {"ioctl"}},
        {"action", "SCMP_ACT_ERRNO"},
        {"errnoRet", 1},
        {"args",
         {{{"index", 1},
           {"value", 0xffffffffu},
           {"valueTwo", kTiocsti},
           {"op", "SCMP_CMP_MASKED_EQ"}}}},
    };
    json tty_console = tty_injection;
    tty_console["args"][0]["valueTwo"] = kTioclinux;
    json profile = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"archMap", arch_map},
        {"syscalls",
         {{{"names", names}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}},
          audit_socket,
          tty_injection,
          tty_console}},
    };
    if (!foreign_arches)
        profile.erase("archMap");
    return profile.dump();
}

}  // namespace volt::seccomp
