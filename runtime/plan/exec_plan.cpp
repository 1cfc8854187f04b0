#include "runtime/plan/exec_plan.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "base/fs.hpp"
#include "base/hash.hpp"
#include "base/text.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/plan/options.hpp"

namespace volt::runtime {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The command's environment: defaults (HOME and USER of the user it runs as), then the
// container's (spec), then this exec's --env.
std::vector<std::string> environment(const Spec& spec, const ExecOptions& o, const ExecUser& user,
                                     const std::string& term) {
    std::vector<std::string> env = {std::string("PATH=") + kDefaultPath, "HOME=" + user.home};
    if (!user.name.empty())
        env.push_back("USER=" + user.name);
    if (!term.empty())
        env.push_back("TERM=" + term);
    auto set = [&env](const std::string& kv) {
        std::string key = kv.substr(0, kv.find('=') + 1);
        for (auto& e : env)
            if (e.compare(0, key.size(), key) == 0) {
                e = kv;
                return;
            }
        env.push_back(kv);
    };
    for (const auto& kv : container_environment(spec))
        set(kv);
    for (const auto& kv : o.env)
        set(kv);
    return env;
}

std::vector<std::string> command_candidates(const std::string& cmd,
                                            const std::vector<std::string>& env) {
    if (cmd.find('/') != std::string::npos)
        return {cmd};
    std::string path = kDefaultPath;
    for (const auto& e : env)
        if (e.starts_with("PATH="))
            path = e.substr(5);
    std::vector<std::string> out;
    for (std::string_view dir : fs::split(path, ':'))
        out.push_back((dir.empty() ? std::string(".") : std::string(dir)) + "/" + cmd);
    return out;
}

// RLIMIT_* by number, as prlimit(1) names them.
std::string rlimit_name(int resource) {
    constexpr const char* kNames[] = {
        "cpu",     "fsize", "data",  "stack",      "core",     "rss",  "nproc",  "nofile",
        "memlock", "as",    "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"};
    return resource >= 0 && resource < static_cast<int>(std::size(kNames))
               ? kNames[resource]
               : std::to_string(resource);
}

std::string ports_text(const std::vector<std::uint16_t>& ports) {
    std::string s;
    for (auto p : ports)
        s.append(s.empty() ? "" : " ").append(std::to_string(p));
    return s;
}

std::string rlimit_text(rlim_t v) {
    return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
}

// An id of passwd or group, or a --user number: decimal, below (uid_t)-1, which means "none".
std::optional<std::uint32_t> parse_id(std::string_view text) {
    std::uint32_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
        id == static_cast<std::uint32_t>(-1))
        return std::nullopt;
    return id;
}

// One well-formed line of passwd (7 fields) or group (4 fields); anything else is skipped.
std::optional<std::vector<std::string_view>> account_fields(std::string_view line,
                                                            std::size_t count) {
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-' ||
        text::has_control(line))
        return std::nullopt;
    auto fields = fs::split(line, ':');
    if (fields.size() != count || fields[0].empty() || !parse_id(fields[2]))
        return std::nullopt;
    return fields;
}

// Calls f(fields) for each well-formed line until it returns true.
template <class F>
void each_account(std::string_view file, std::size_t count, F f) {
    for (std::string_view line : fs::split(file, '\n'))
        if (auto fields = account_fields(line, count); fields && f(*fields))
            return;
}

Error no_such(const std::string& what, std::string_view name, const char* file) {
    return Error::usage("--user: invalid value '" + text::printable(what) + "': no " +
                        std::string(file == std::string_view("passwd") ? "user" : "group") + " '" +
                        text::printable(name) + "' in the container's /etc/" + file);
}

// The syntax of --user, before anything is looked up: USER or USER:GROUP, neither empty.
Status check_user(const std::string& spec) {
    const auto colon = spec.find(':');
    if (spec.empty() || colon == 0 || colon + 1 == spec.size() || text::has_control(spec))
        return Error::usage("--user: invalid value '" + text::printable(spec) +
                            "': expected USER[:GROUP], names or numbers");
    return {};
}

}  // namespace

bool needs_account_files(const ExecOptions& o) {
    return !o.user.empty() || o.argv.empty();
}

Result<ExecUser> resolve_user(const std::string& spec, std::string_view passwd,
                              std::string_view group) {
    if (!spec.empty())
        VOLT_TRY(check_user(spec));
    ExecUser u;
    const auto colon = spec.find(':');
    const std::string_view user_part = std::string_view(spec).substr(0, colon);
    const std::optional<std::string_view> group_part =
        colon == std::string::npos ? std::nullopt
                                   : std::optional(std::string_view(spec).substr(colon + 1));
    const std::optional<std::uint32_t> uid =
        spec.empty() ? std::optional<std::uint32_t>(0) : parse_id(user_part);
    bool found = false;
    each_account(passwd, 7, [&](const std::vector<std::string_view>& f) {
        if (uid ? *parse_id(f[2]) != *uid : f[0] != user_part)
            return false;
        auto gid = parse_id(f[3]);
        if (!gid)
            return false;  // a malformed entry: as if it were not there
        u.name = f[0];
        u.uid = *parse_id(f[2]);
        u.gid = *gid;
        if (!f[5].empty())
            u.home = f[5];
        if (!f[6].empty())
            u.shell = f[6];
        return found = true;
    });
    if (!found) {
        if (!uid)
            return no_such(spec, user_part, "passwd");
        u.uid = u.gid = *uid;
        if (*uid == 0) {
            u.name = "root";
            u.home = "/root";
        }
    }
    if (group_part) {
        auto gid = parse_id(*group_part);
        bool group_found = gid.has_value();
        each_account(group, 4, [&](const std::vector<std::string_view>& f) {
            if (f[0] != *group_part)
                return false;
            gid = parse_id(f[2]);
            return group_found = true;
        });
        if (!group_found)
            return no_such(spec, *group_part, "group");
        u.gid = *gid;
    }
    u.groups.push_back(u.gid);
    if (!u.name.empty())
        each_account(group, 4, [&](const std::vector<std::string_view>& f) {
            const gid_t gid = *parse_id(f[2]);
            for (std::string_view member : fs::split(f[3], ','))
                if (member == u.name &&
                    std::find(u.groups.begin(), u.groups.end(), gid) == u.groups.end())
                    u.groups.push_back(gid);
            return false;
        });
    return u;
}

Status check_exec_options(const ExecOptions& o) {
    if (o.detach && (o.tty || o.interactive))
        return Error::usage(std::string("--detach cannot be combined with ") +
                            (o.tty ? "--tty" : "--interactive"));
    // Once the command is not root it has no capability to install the filters and the Landlock
    // domain with: they need no_new_privs.
    if (!o.user.empty())
        VOLT_TRY(check_user(o.user));
    if (!o.user.empty() && o.allow_new_privileges)
        return Error::usage("--allow-new-privileges cannot be combined with --user");
    for (const auto& kv : o.env)
        VOLT_TRY(parse_env("--env", kv));
    if (!o.workdir.empty() && o.workdir[0] != '/')
        return Error::usage("--workdir: invalid value '" + o.workdir + "': must be absolute");
    return {};
}

landlock::Plan exec_landlock_plan(const landlock::Policy& policy, const Spec& spec, int abi) {
    landlock::Plan plan = landlock::plan(policy, landlock::Part::exec, abi);
    namespace r = landlock::fs_right;
    constexpr std::uint64_t kRead = r::execute | r::read_file | r::read_dir;
    // Device nodes cannot be made in a volume (nodev, and no CAP_MKNOD in a user namespace).
    constexpr std::uint64_t kWrite = ~(r::make_char | r::make_block);
    for (const Volume& v : spec.volumes) {
        const std::uint64_t rights = (v.read_only ? kRead : kWrite) & plan.handled_fs;
        if (rights != 0)
            plan.paths.push_back({v.container, rights});
    }
    return plan;
}

Status check_landlock_mode(LandlockMode mode, const std::string& policy,
                           const landlock::Plan& plan) {
    if (mode != LandlockMode::require || plan.complete())
        return {};
    return Error(
        0, "Landlock policy " + policy + " is required but " +
               (plan.abi == 0 ? std::string("this kernel has no Landlock") : plan.describe()) +
               " (use --landlock-mode best-effort to run anyway)");
}

Result<ExecPlan> plan_exec(const Spec& spec, const ExecOptions& o, const ExecFacts& facts) {
    VOLT_TRY(check_exec_options(o));
    ExecPlan plan;
    VOLT_TRY_ASSIGN(ExecUser user, resolve_user(o.user, facts.passwd, facts.group));
    // No command: the user's login shell, as machinectl shell runs it.
    plan.argv = o.argv.empty() ? std::vector<std::string>{user.shell} : o.argv;
    plan.env = environment(spec, o, user, facts.term);
    plan.candidates = command_candidates(plan.argv[0], plan.env);
    if (!o.user.empty())
        plan.user = std::move(user);
    plan.tty = o.tty;
    plan.forward_stdin = !o.tty || o.interactive;
    plan.detach = o.detach;
    if (!o.workdir.empty())
        plan.workdir = o.workdir;
    plan.join_user_namespace = facts.foreign_user_namespace;
    // The cgroup2 payload only. On a hybrid host the v1 name=systemd twin is kept for tools
    // that read it (systemd itself tracks processes on cgroup2): joining it would take a second
    // cgroup.procs write, which costs an RCU grace period (8-16 ms in half of the execs on our
    // VMs, docs/BENCHMARKS.md), while the command is born in its cgroup2 one without a write.
    plan.cgroup = facts.payload_cgroup;
    plan.cgroup_procs = facts.payload_cgroup + "/cgroup.procs";
    plan.cap_bounding = facts.cap_bounding;
    for (int r = 0; r < RLIM_NLIMITS; ++r) {
        const auto& [theirs, ours] = facts.limits[static_cast<size_t>(r)];
        if (theirs.rlim_cur == ours.rlim_cur && theirs.rlim_max == ours.rlim_max)
            continue;
        ExecPlan::Limit l;
        l.resource = r;
        l.wanted = theirs;
        l.capped.rlim_max = std::min(theirs.rlim_max, ours.rlim_max);
        l.capped.rlim_cur = std::min(theirs.rlim_cur, l.capped.rlim_max);
        plan.limits.push_back(l);
    }
    plan.landlock_policy = spec.landlock;
    plan.landlock = facts.landlock;
    VOLT_TRY(check_landlock_mode(o.landlock_mode.value_or(spec.landlock_mode), spec.landlock,
                                 plan.landlock));
    // nspawn's restrictions are evaluated for the init's bounding set; names this libseccomp
    // does not know are calls it cannot build a rule for on any architecture, and the
    // container's profile refuses those (ENOSYS) unless it is unconfined.
    // The container's profile is evaluated for the init's effective capabilities, as Docker
    // evaluates includes/excludes against the container's.
    const std::string profile = o.seccomp.empty() ? spec.seccomp : o.seccomp;
    if (profile != "unconfined") {
        FilterChoice f;
        f.profile = profile;
        f.containers_own = o.seccomp.empty();
        if (f.containers_own)
            f.digest = facts.seccomp_digest;
        f.options.target.caps = facts.cap_effective;
        f.options.unknown_syscalls_warn = spec.seccomp_unknown_warn;
        plan.seccomp = f;
    }
    // Where the container's own profile kills other architectures' calls (boot recorded that),
    // the restrictions need only cover the native one; otherwise (unconfined, a profile given
    // to this exec, nothing recorded) they cover every architecture themselves.
    plan.nspawn_filter.profile = "systemd-nspawn's restrictions";
    plan.nspawn_filter.foreign_arches =
        !(plan.seccomp && plan.seccomp->containers_own && !facts.seccomp_digest.empty() &&
          !facts.seccomp_foreign_arches);
    plan.nspawn_filter.digest =
        seccomp::nspawn_restrictions_digest(facts.cap_bounding, plan.nspawn_filter.foreign_arches);
    plan.nspawn_filter.options.target.caps = facts.cap_bounding;
    plan.nspawn_filter.options.unknown_syscalls_warn = true;
    plan.no_new_privs = !o.allow_new_privileges;
    return plan;
}

std::string render(const ExecPlan& plan) {
    std::string out;
    auto line = [&](const std::string& key, const std::string& value) {
        out += key + " " + value + "\n";
    };
    auto joined = [](const std::vector<std::string>& items, const char* sep) {
        std::string s;
        for (const auto& i : items)
            s.append(s.empty() ? "" : sep).append(i);
        return s;
    };
    line("argv", joined(plan.argv, " "));
    for (const auto& e : plan.env)
        line("env", e);
    line("try", joined(plan.candidates, " "));
    line("workdir", plan.workdir);
    if (plan.user) {
        std::string groups;
        for (gid_t g : plan.user->groups)
            groups.append(groups.empty() ? "" : ",").append(std::to_string(g));
        line("user", (plan.user->name.empty() ? std::string("-") : plan.user->name) + " uid " +
                         std::to_string(plan.user->uid) + " gid " + std::to_string(plan.user->gid) +
                         " groups " + groups);
    }
    if (plan.tty)
        line("stdio", plan.forward_stdin ? "pty, stdin forwarded" : "pty, stdin not forwarded");
    else if (plan.detach)
        line("stdio", "/dev/null, detached");
    line("namespaces", std::string("mnt uts ipc net cgroup pid") +
                           (plan.join_user_namespace ? " user (as its root)" : ""));
    line("cgroup", plan.cgroup);
    line("capabilities", "bounding " + hash::hex(plan.cap_bounding));
    for (const auto& l : plan.limits)
        line("rlimit", rlimit_name(l.resource) + " " + rlimit_text(l.wanted.rlim_cur) + "/" +
                           rlimit_text(l.wanted.rlim_max) + " (else " +
                           rlimit_text(l.capped.rlim_cur) + "/" + rlimit_text(l.capped.rlim_max) +
                           ")");
    line("landlock", plan.landlock_policy + ", " +
                         (plan.landlock.empty() ? std::string("nothing to enforce")
                                                : "ABI " + std::to_string(plan.landlock.abi) +
                                                      ": " + plan.landlock.describe()));
    for (const auto& r : plan.landlock.paths)
        line("landlock-path", r.path + " " + landlock::fs_names(r.rights));
    if (!plan.landlock.bind_ports.empty())
        line("landlock-bind", ports_text(plan.landlock.bind_ports));
    if (!plan.landlock.connect_ports.empty())
        line("landlock-connect", ports_text(plan.landlock.connect_ports));
    auto filter = [&](const FilterChoice& f) {
        line("seccomp",
             f.profile + " for caps " + hash::hex(f.options.target.caps) + ", " +
                 (f.digest.empty() ? std::string("digest from its text") : "digest " + f.digest) +
                 (f.options.unknown_syscalls_warn ? ", unknown names warn" : ""));
    };
    filter(plan.nspawn_filter);
    if (plan.seccomp)
        filter(*plan.seccomp);
    else
        line("seccomp", "unconfined");
    line("no_new_privs", plan.no_new_privs ? "yes" : "no");
    return out;
}

}  // namespace volt::runtime
