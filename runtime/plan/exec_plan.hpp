// What `exec` will do, as a value: a pure function of the spec, the options and the facts exec
// read about the running container (its init's capabilities and limits, its cgroup, what boot
// recorded of its confinement). The verb (runtime/verbs/exec.cpp) only carries the plan out:
// it opens what the plan names and starts the child, which makes system calls and nothing else.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/spec.hpp"
#include "seccomp-profiles/seccomp.hpp"

namespace volt::runtime {

struct ExecOptions {
    std::vector<std::string> env;  // KEY=VALUE, after the container's own
    std::string workdir;           // inside the container; "/" when empty
    std::vector<std::string> argv;
    std::optional<LandlockMode> landlock_mode;  // the container's when unset
    std::string seccomp;                        // a profile instead of the container's
    // no_new_privs off: setuid files and file capabilities inside may raise the command's
    // privileges (within the container's bounding set). Off by default, as in crun.
    bool allow_new_privileges = false;
    // -t: the command's stdin, stdout and stderr are a pty made in the container's devpts, and
    // the caller's terminal is relayed to it. -i: with -t, the caller's stdin is forwarded (and
    // its terminal put in raw mode); without -t stdin always passes through.
    bool tty = false;
    bool interactive = false;
    // Started and left running: stdio on /dev/null, in a session of its own, and volt-run
    // returns 0 once it executes. Without it, the command is killed when volt-run dies.
    bool detach = false;
    // --user USER[:GROUP]: names looked up in the container's /etc/passwd and /etc/group, or
    // numeric ids. Empty: root.
    std::string user;
};

// The container's account files, which exec reads only when the plan needs them (--user, or
// no command: the user's shell is run).
bool needs_account_files(const ExecOptions& options);

// The user a command runs as.
struct ExecUser {
    std::string name;  // from passwd; empty for a numeric id it does not list
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary: the primary group and those listing the user
    std::string home = "/";
    std::string shell = "/bin/sh";
};

// Resolves --user against the container's /etc/passwd and /etc/group texts (hostile: malformed
// lines are skipped, never trusted). Empty `user`: root (its passwd entry when there is one).
// A name neither file lists is a usage error naming it. A numeric uid passwd does not list gets
// the group of the same number, HOME=/ and /bin/sh.
Result<ExecUser> resolve_user(const std::string& user, std::string_view passwd,
                              std::string_view group);

// The options' own mistakes (no command, a bad --env, a relative --workdir), as usage errors
// naming the option: checked before anything is looked up.
Status check_exec_options(const ExecOptions& options);

// A resource limit of the container's init next to ours.
struct LimitPair {
    rlimit theirs{}, ours{};
};

// What exec found out before planning; reading it changes nothing.
struct ExecFacts {
    std::string payload_cgroup;  // the cgroup2 directory the command joins
    // The container's init's capability sets (bit N = capability N).
    std::uint64_t cap_bounding = 0, cap_effective = 0;
    bool foreign_user_namespace = false;  // the init's user namespace is not ours
    std::array<LimitPair, RLIM_NLIMITS> limits{};
    std::string term;  // the caller's TERM, or empty
    // What of the container's Landlock policy this kernel enforces for exec'd commands, as boot
    // recorded it (or as planned now for a container booted without that record).
    landlock::Plan landlock;
    // The digest of the container's seccomp profile as boot recorded it; empty when unknown
    // (the profile is then read and hashed).
    std::string seccomp_digest;
    // Whether that profile's filter lets other architectures' calls through; true when unknown.
    bool seccomp_foreign_arches = true;
    // The container's /etc/passwd and /etc/group (empty when it has none), read only when
    // needs_account_files.
    std::string passwd, group;
};

// A seccomp filter the command gets, named the way the cache knows it.
struct FilterChoice {
    std::string profile;  // a builtin's name or a profile file
    // The container's own profile (a custom one is then create's copy, not the file it named).
    bool containers_own = false;
    std::string digest;  // seccomp::profile_digest of its text; empty: read it and hash it
    seccomp::CompileOptions options;
    // nspawn's restrictions alone: whether they cover other architectures too (they need not
    // when the container's profile, installed beside them, kills those architectures' calls).
    bool foreign_arches = true;
};

struct ExecPlan {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::vector<std::string> candidates;  // absolute paths to try, in PATH order
    std::string workdir = "/";
    bool join_user_namespace = false;
    // Switch to this user (after the capabilities are cut to the container's); otherwise the
    // command runs as the container's root with no supplementary groups.
    std::optional<ExecUser> user;
    bool tty = false;
    bool forward_stdin = true;  // with tty: -i
    bool detach = false;
    // The payload cgroup (cgroup2) the command is born in, and its cgroup.procs for a kernel that
    // cannot start a child in a cgroup (the child then writes itself there).
    std::string cgroup, cgroup_procs;
    std::uint64_t cap_bounding = 0;
    // The init's limits where they differ from ours, and capped at our hard limit for when
    // raising a hard limit is refused (no CAP_SYS_RESOURCE).
    struct Limit {
        int resource = 0;
        rlimit wanted{}, capped{};
    };
    std::vector<Limit> limits;
    std::string landlock_policy;  // its name, as in the spec
    landlock::Plan landlock;
    // nspawn's restrictions of the guest first, then the container's profile (nullopt:
    // unconfined).
    FilterChoice nspawn_filter;
    std::optional<FilterChoice> seccomp;
    bool no_new_privs = true;
};

// Pure. The options are checked as check_exec_options does; a Landlock policy that is not fully
// enforced under LandlockMode::require is an error naming what is missing.
Result<ExecPlan> plan_exec(const Spec& spec, const ExecOptions& options, const ExecFacts& facts);

// The plan as text, one fact per line, for golden tests and `exec -vv`.
std::string render(const ExecPlan& plan);

// The exec part of the container's Landlock policy planned for `abi`, with each volume's target
// granted what its mount allows (read, list and execute; with rw also everything that writes),
// as far as the plan handles those rights: a volume works under every policy. Pure.
landlock::Plan exec_landlock_plan(const landlock::Policy& policy, const Spec& spec, int abi);

// The error for a Landlock plan that `require` cannot accept, or success (boot and exec).
Status check_landlock_mode(LandlockMode mode, const std::string& policy,
                           const landlock::Plan& plan);

}  // namespace volt::runtime
