#include "landlock/landlock.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <string>

#include "base/fs.hpp"
#include "base/syscalls.hpp"
#include "landlock/policies.hpp"  // generated from policies/*.policy

namespace volt::landlock {
namespace {

// The kernel's structs (UAPI), at their newest size; older kernels accept them as long as the
// fields they do not know are zero.
struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;
    std::uint64_t scoped;
};
struct __attribute__((packed)) PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
};
struct NetPortAttr {
    std::uint64_t allowed_access;
    std::uint64_t port;
};
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;
constexpr std::uint32_t kCreateRulesetVersion = 1U << 0;

struct Name {
    const char* name;
    std::uint64_t bits;
};

// Single rights in bit order, then the groups policies may use.
constexpr std::array<Name, 16> kFsRights = {{
    {"execute", fs_right::execute},
    {"write-file", fs_right::write_file},
    {"read-file", fs_right::read_file},
    {"read-dir", fs_right::read_dir},
    {"remove-dir", fs_right::remove_dir},
    {"remove-file", fs_right::remove_file},
    {"make-char", fs_right::make_char},
    {"make-dir", fs_right::make_dir},
    {"make-reg", fs_right::make_reg},
    {"make-sock", fs_right::make_sock},
    {"make-fifo", fs_right::make_fifo},
    {"make-block", fs_right::make_block},
    {"make-sym", fs_right::make_sym},
    {"refer", fs_right::refer},
    {"truncate", fs_right::truncate},
    {"ioctl-dev", fs_right::ioctl_dev},
}};
constexpr std::array<Name, 5> kFsGroups = {{
    {"read", fs_right::read_file | fs_right::read_dir},
    {"write", fs_right::write_file | fs_right::truncate},
    {"create", fs_right::make_reg | fs_right::make_dir | fs_right::make_sym | fs_right::make_sock |
                   fs_right::make_fifo},
    {"remove", fs_right::remove_file | fs_right::remove_dir},
    {"devices", fs_right::make_char | fs_right::make_block},
}};
constexpr std::array<Name, 2> kNetRights = {{
    {"TCP bind", net_right::bind_tcp},
    {"TCP connect", net_right::connect_tcp},
}};
constexpr std::array<Name, 2> kScopes = {{
    {"abstract-unix-socket", scope::abstract_unix_socket},
    {"signal", scope::signal},
}};

constexpr std::uint64_t kAllFs = (fs_right::ioctl_dev << 1) - 1;

template <std::size_t N>
std::string names_of(const std::array<Name, N>& table, std::uint64_t bits) {
    std::string out;
    for (const auto& n : table)
        if (bits & n.bits) {
            out += out.empty() ? "" : ",";
            out += n.name;
            bits &= ~n.bits;
        }
    if (bits)
        out += (out.empty() ? "0x" : ",0x") + [&] {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(bits));
            return std::string(buf);
        }();
    return out;
}

// A number in decimal or 0x-hex, whole field, digits only (no sign, no space, within 64 bits);
// false if it is not one.
bool parse_number(std::string_view s, std::uint64_t& out) {
    int base = 10;
    if (s.starts_with("0x")) {
        base = 16;
        s.remove_prefix(2);
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
        return false;
    out = v;
    return true;
}

// Absolute, no empty, "." or ".." components (so nothing can climb out of the root).
bool valid_rule_path(std::string_view path, std::string& normalized) {
    if (path.empty() || path[0] != '/')
        return false;
    normalized.clear();
    for (std::string_view part : fs::split(path.substr(1), '/')) {
        if (part.empty())
            continue;  // "//" and a trailing "/" are harmless
        if (part == "." || part == "..")
            return false;
        normalized += "/";
        normalized += part;
    }
    if (normalized.empty())
        normalized = "/";
    return true;
}

}  // namespace

std::uint64_t fs_rights_of(int abi) {
    if (abi <= 0)
        return 0;
    std::uint64_t r = (fs_right::make_sym << 1) - 1;  // ABI 1: execute … make-sym
    if (abi >= 2)
        r |= fs_right::refer;
    if (abi >= 3)
        r |= fs_right::truncate;
    if (abi >= 5)
        r |= fs_right::ioctl_dev;
    return r;
}

std::uint64_t net_rights_of(int abi) {
    return abi >= 4 ? net_right::bind_tcp | net_right::connect_tcp : 0;
}

std::uint64_t scopes_of(int abi) {
    return abi >= 6 ? scope::abstract_unix_socket | scope::signal : 0;
}

std::string added_by(int abi) {
    switch (abi) {
        case 1:
            return "file system: execute, read, write, make and remove files and directories";
        case 2:
            return "file system: refer (rename and link across directories)";
        case 3:
            return "file system: truncate";
        case 4:
            return "network: TCP bind and connect by port";
        case 5:
            return "file system: ioctl on device files";
        case 6:
            return "scopes: signals and abstract unix sockets";
        case 7:
            return "audit logging flags (no new rights)";
        default:
            return "";
    }
}

int probe_abi() {
    int abi = sys::landlock_create_ruleset(nullptr, 0, kCreateRulesetVersion);
    if (abi < 0)
        return 0;  // ENOSYS (not built) or EOPNOTSUPP (disabled at boot)
    return abi;
}

std::string fs_names(std::uint64_t rights) {
    return names_of(kFsRights, rights);
}
std::string net_names(std::uint64_t rights) {
    return names_of(kNetRights, rights);
}
std::string scope_names(std::uint64_t scopes) {
    return names_of(kScopes, scopes);
}

std::string_view builtin_policy_text(std::string_view name) {
    if (name == "server")
        return policies::kServer;
    if (name == "desktop")
        return policies::kDesktop;
    return {};
}

Result<Policy> parse_policy(std::string_view text, const std::string& source) {
    Policy p;
    p.name = source;
    int line_no = 0;
    for (std::string_view raw : fs::split(text, '\n')) {
        ++line_no;
        std::string_view line = raw.substr(0, raw.find('#'));
        auto f = fs::words(line);
        if (f.empty())
            continue;
        auto err = [&](const std::string& what) {
            return Error::usage(source + ":" + std::to_string(line_no) + ": " + what);
        };
        if (f.size() != 3 && !(f[0] == "scope" && f.size() == 2))
            return err(
                "expected 'fs PATH RIGHTS', 'net bind-tcp|connect-tcp PORTS' or "
                "'scope SCOPES', got '" +
                std::string(f.front().data(), f.back().data() + f.back().size()) + "'");
        if (f[0] == "fs") {
            PathRule rule;
            if (!valid_rule_path(f[1], rule.path))
                return err("invalid path '" + std::string(f[1]) +
                           "': must be absolute, without '.' or '..'");
            for (const auto& other : p.paths)
                if (other.path == rule.path)
                    return err("duplicate rule for " + rule.path);
            for (std::string_view item : fs::split(f[2], ',')) {
                std::uint64_t bits = 0;
                bool found = false;
                for (const auto& n : kFsRights)
                    if (item == n.name)
                        bits = n.bits, found = true;
                for (const auto& n : kFsGroups)
                    if (item == n.name)
                        bits = n.bits, found = true;
                if (!found && !parse_number(item, bits))
                    return err("unknown right '" + std::string(item) + "'");
                rule.rights |= bits;
            }
            if (rule.rights == 0)
                return err("no rights for " + rule.path);
            p.paths.push_back(rule);
        } else if (f[0] == "net") {
            bool bind = f[1] == "bind-tcp";
            if (!bind && f[1] != "connect-tcp")
                return err("unknown network rule '" + std::string(f[1]) +
                           "' (bind-tcp or connect-tcp)");
            bool& handled = bind ? p.handles_bind : p.handles_connect;
            if (handled)
                return err("duplicate rule for " + std::string(f[1]));
            handled = true;
            auto& ports = bind ? p.bind_ports : p.connect_ports;
            if (f[2] == "none")
                continue;
            for (std::string_view item : fs::split(f[2], ',')) {
                std::uint64_t port = 0;
                if (!parse_number(item, port) || port == 0 || port > 65535)
                    return err("invalid port '" + std::string(item) + "' (1-65535)");
                ports.push_back(static_cast<std::uint16_t>(port));
            }
        } else if (f[0] == "scope") {
            for (std::string_view item : fs::split(f[1], ',')) {
                bool found = false;
                for (const auto& n : kScopes)
                    if (item == n.name)
                        p.scopes |= n.bits, found = true;
                if (!found)
                    return err("unknown scope '" + std::string(item) +
                               "' (signal, abstract-unix-socket)");
            }
        } else {
            return err("unknown rule '" + std::string(f[0]) + "' (fs, net or scope)");
        }
    }
    return p;
}

Plan plan(const Policy& policy, Part part, int abi) {
    Plan pl;
    pl.abi = abi;
    std::uint64_t fs_ok = fs_rights_of(abi), net_ok = net_rights_of(abi), scope_ok = scopes_of(abi);
    if (part == Part::exec && !policy.paths.empty()) {
        // Deny by default: every right we know is handled; the rules grant.
        pl.handled_fs = kAllFs & fs_ok;
        pl.missing_fs = kAllFs & ~fs_ok;
        for (const auto& r : policy.paths)
            if (std::uint64_t rights = r.rights & fs_ok)
                pl.paths.push_back({r.path, rights});
    }
    std::uint64_t net = (policy.handles_bind ? net_right::bind_tcp : 0) |
                        (policy.handles_connect ? net_right::connect_tcp : 0);
    pl.handled_net = net & net_ok;
    pl.missing_net = net & ~net_ok;
    if (pl.handled_net & net_right::bind_tcp)
        pl.bind_ports = policy.bind_ports;
    if (pl.handled_net & net_right::connect_tcp)
        pl.connect_ports = policy.connect_ports;
    pl.scopes = policy.scopes & scope_ok;
    pl.missing_scopes = policy.scopes & ~scope_ok;
    return pl;
}

std::string Plan::level() const {
    if (empty())
        return "none";
    return complete() ? "full" : "partial";
}

std::string Plan::describe() const {
    std::string missing;
    auto add = [&](const std::string& s) {
        if (!s.empty())
            missing += (missing.empty() ? "" : ", ") + s;
    };
    add(fs_names(missing_fs));
    add(net_names(missing_net));
    if (missing_scopes)
        add("scope " + scope_names(missing_scopes));
    std::string l = level();
    if (missing.empty())
        return l;
    return l + " (ABI " + std::to_string(abi) + " cannot enforce: " + missing + ")";
}

Result<Ruleset> Ruleset::create(const Plan& plan) {
    RulesetAttr attr{plan.handled_fs, plan.handled_net, plan.scopes};
    int fd = sys::landlock_create_ruleset(&attr, sizeof attr, 0);
    if (fd < 0)
        return Error::from_errno("landlock_create_ruleset");
    Ruleset rs{UniqueFd(fd)};
    for (std::uint16_t port : plan.bind_ports)
        VOLT_TRY(rs.allow_port(net_right::bind_tcp, port));
    for (std::uint16_t port : plan.connect_ports)
        VOLT_TRY(rs.allow_port(net_right::connect_tcp, port));
    return rs;
}

Status Ruleset::allow_path(int fd, std::uint64_t rights) {
    PathBeneathAttr attr{rights, fd};
    if (sys::landlock_add_rule(fd_.get(), kRulePathBeneath, &attr, 0) < 0)
        return Error::from_errno("landlock_add_rule(path " + fs_names(rights) + ")");
    return {};
}

Status Ruleset::allow_port(std::uint64_t rights, std::uint16_t port) {
    NetPortAttr attr{rights, port};
    if (sys::landlock_add_rule(fd_.get(), kRuleNetPort, &attr, 0) < 0)
        return Error::from_errno("landlock_add_rule(" + net_names(rights) + " port " +
                                 std::to_string(port) + ")");
    return {};
}

int restrict_self(int ruleset_fd) {
    if (sys::landlock_restrict_self(ruleset_fd, 0) == 0)
        return 0;
    if (errno != EPERM)
        return errno;
    // Without CAP_SYS_ADMIN in our user namespace the kernel wants no_new_privs first.
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return errno;
    return sys::landlock_restrict_self(ruleset_fd, 0) == 0 ? 0 : errno;
}

}  // namespace volt::landlock
