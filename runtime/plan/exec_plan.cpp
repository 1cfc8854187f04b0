#include "runtime/plan/exec_plan.hpp"

#include <algorithm>
#include <iterator>

#include "base/fs.hpp"
#include "base/hash.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/plan/options.hpp"

namespace volt::runtime {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The command's environment: defaults, then the container's (spec), then this exec's --env.
std::vector<std::string> environment(const Spec& spec, const ExecOptions& o,
                                     const std::string& term) {
    std::vector<std::string> env = {std::string("PATH=") + kDefaultPath, "HOME=/root"};
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

}  // namespace

Status check_exec_options(const ExecOptions& o) {
    if (o.argv.empty())
        return Error::usage("exec: no command given");
    for (const auto& kv : o.env)
        VOLT_TRY(parse_env("--env", kv));
    if (!o.workdir.empty() && o.workdir[0] != '/')
        return Error::usage("--workdir: invalid value '" + o.workdir + "': must be absolute");
    return {};
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
    plan.argv = o.argv;
    plan.env = environment(spec, o, facts.term);
    plan.candidates = command_candidates(o.argv[0], plan.env);
    if (!o.workdir.empty())
        plan.workdir = o.workdir;
    plan.join_user_namespace = facts.foreign_user_namespace;
    plan.cgroup_procs = facts.payload_cgroup + "/cgroup.procs";
    if (!facts.payload_cgroup_v1.empty())
        plan.cgroup_procs_v1 = facts.payload_cgroup_v1 + "/cgroup.procs";
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
    plan.nspawn_filter.profile = "systemd-nspawn's restrictions";
    plan.nspawn_filter.digest = seccomp::nspawn_restrictions_digest(facts.cap_bounding);
    plan.nspawn_filter.options.target.caps = facts.cap_bounding;
    plan.nspawn_filter.options.unknown_syscalls_warn = true;
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
    line("namespaces", std::string("mnt uts ipc net cgroup pid") +
                           (plan.join_user_namespace ? " user (as its root)" : ""));
    line("cgroup", plan.cgroup_procs);
    if (!plan.cgroup_procs_v1.empty())
        line("cgroup-v1", plan.cgroup_procs_v1);
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
