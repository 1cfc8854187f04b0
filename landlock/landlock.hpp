// Landlock for containers: the rights of each ABI, policy files, what a kernel can enforce of a
// policy, and the ruleset. See landlock/README.md for the policy format and where each part
// applies (exec: everything; boot: network and scopes only).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::landlock {

// UAPI, our own copy: Debian 12's <linux/landlock.h> stops at ABI 2.
namespace fs_right {
inline constexpr std::uint64_t execute = 1ULL << 0;
inline constexpr std::uint64_t write_file = 1ULL << 1;
inline constexpr std::uint64_t read_file = 1ULL << 2;
inline constexpr std::uint64_t read_dir = 1ULL << 3;
inline constexpr std::uint64_t remove_dir = 1ULL << 4;
inline constexpr std::uint64_t remove_file = 1ULL << 5;
inline constexpr std::uint64_t make_char = 1ULL << 6;
inline constexpr std::uint64_t make_dir = 1ULL << 7;
inline constexpr std::uint64_t make_reg = 1ULL << 8;
inline constexpr std::uint64_t make_sock = 1ULL << 9;
inline constexpr std::uint64_t make_fifo = 1ULL << 10;
inline constexpr std::uint64_t make_block = 1ULL << 11;
inline constexpr std::uint64_t make_sym = 1ULL << 12;
inline constexpr std::uint64_t refer = 1ULL << 13;      // ABI 2
inline constexpr std::uint64_t truncate = 1ULL << 14;   // ABI 3
inline constexpr std::uint64_t ioctl_dev = 1ULL << 15;  // ABI 5
}  // namespace fs_right
namespace net_right {
inline constexpr std::uint64_t bind_tcp = 1ULL << 0;     // ABI 4
inline constexpr std::uint64_t connect_tcp = 1ULL << 1;  // ABI 4
}  // namespace net_right
namespace scope {
inline constexpr std::uint64_t abstract_unix_socket = 1ULL << 0;  // ABI 6
inline constexpr std::uint64_t signal = 1ULL << 1;                // ABI 6
}  // namespace scope

// The newest ABI this code knows; 7 (Linux 6.15) added audit flags, no new rights.
inline constexpr int kKnownAbi = 7;

// What each ABI can handle (0 = no Landlock: nothing). Pure.
std::uint64_t fs_rights_of(int abi);
std::uint64_t net_rights_of(int abi);
std::uint64_t scopes_of(int abi);
// What ABI `abi` added, in words ("truncate", "TCP bind/connect" …), for `volt-run check`.
std::string added_by(int abi);

// The running kernel's ABI (0 without Landlock).
int probe_abi();

// Names for masks, comma-separated, in bit order ("read-file,read-dir").
std::string fs_names(std::uint64_t rights);
std::string net_names(std::uint64_t rights);
std::string scope_names(std::uint64_t scopes);

struct PathRule {
    std::string path;  // absolute inside the container, normalized
    std::uint64_t rights = 0;
    bool operator==(const PathRule&) const = default;
};

struct Policy {
    std::string name;  // "server", "desktop", or the file it came from
    std::vector<PathRule> paths;
    bool handles_bind = false, handles_connect = false;
    std::vector<std::uint16_t> bind_ports, connect_ports;
    std::uint64_t scopes = 0;
    bool operator==(const Policy&) const = default;
};

// Parses a policy; errors name the source, the line and the field ("p.policy:3: unknown right
// 'wrte'").
Result<Policy> parse_policy(std::string_view text, const std::string& source);
// The text of a built-in policy ("server", "desktop"), or empty when there is none by that name.
std::string_view builtin_policy_text(std::string_view name);

// What a kernel of ABI `abi` enforces of a policy, for one place it applies.
enum class Part { exec, boot };
struct Plan {
    int abi = 0;
    std::uint64_t handled_fs = 0, handled_net = 0, scopes = 0;
    std::vector<PathRule> paths;  // rights cut to what the ABI knows
    std::vector<std::uint16_t> bind_ports, connect_ports;
    // What the policy asks for that this ABI cannot enforce (left unrestricted).
    std::uint64_t missing_fs = 0, missing_net = 0, missing_scopes = 0;
    bool empty() const { return handled_fs == 0 && handled_net == 0 && scopes == 0; }
    bool complete() const { return missing_fs == 0 && missing_net == 0 && missing_scopes == 0; }
    bool operator==(const Plan&) const = default;
    // "full", "partial" or "none".
    std::string level() const;
    // "full", or e.g. "partial (ABI 3 cannot enforce: ioctl-dev, TCP bind, scope signal)".
    std::string describe() const;
};
Plan plan(const Policy& policy, Part part, int abi);

// A ruleset under construction; restrict_self() binds the calling thread (and its children).
class Ruleset {
  public:
    static Result<Ruleset> create(const Plan& plan);
    // Grants rights below the file or directory fd refers to (an O_PATH fd is enough).
    Status allow_path(int fd, std::uint64_t rights);
    Status allow_port(std::uint64_t rights, std::uint16_t port);
    int fd() const { return fd_.get(); }
    // The finished ruleset, to enforce later (in another process: it is inherited).
    UniqueFd release() { return std::move(fd_); }

  private:
    explicit Ruleset(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Enforces a ruleset on the calling thread. Async-signal-safe (raw syscalls, no allocation), so
// a CLONE_VM child may call it. Sets no_new_privs only when the kernel demands it (no
// CAP_SYS_ADMIN in our user namespace): setuid programs inside keep working where possible.
// Returns 0 or an errno.
int restrict_self(int ruleset_fd);

}  // namespace volt::landlock
