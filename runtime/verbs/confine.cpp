#include "runtime/verbs/confine.hpp"

#include <charconv>

#include "base/fs.hpp"
#include "base/log.hpp"

namespace volt::runtime {
namespace {

// The text of a seccomp profile: a builtin, the container's own custom profile (create's copy),
// or a file given to exec, read now.
Result<std::string> profile_text(const Paths& paths, const Spec& spec, const std::string& name,
                                 bool containers_own) {
    if (auto builtin = seccomp::builtin_profile_text(name); !builtin.empty())
        return std::string(builtin);
    std::string file = containers_own ? paths.seccomp_profile(spec.name) : name;
    // create's copy is ours; a file given to exec is the user's, symlink or not.
    VOLT_TRY_ASSIGN_CTX(std::string text, fs::read_record(file, kMaxProfileBytes, !containers_own),
                        "reading seccomp profile");
    return text;
}

}  // namespace

int landlock_abi(const Paths& paths) {
    int abi = landlock::probe_abi();
    const std::string& cap = paths.landlock_max_abi;
    int n = 0;
    // The CLI refused anything but a number (check_global_options).
    if (!cap.empty() && std::from_chars(cap.data(), cap.data() + cap.size(), n).ec == std::errc() &&
        n >= 0 && n < abi)
        abi = n;
    return abi;
}

Result<std::optional<landlock::Policy>> landlock_policy(const Paths& paths, const Spec& spec) {
    if (spec.landlock == "none")
        return std::optional<landlock::Policy>();
    std::string text;
    std::string source = spec.landlock;
    if (auto builtin = landlock::builtin_policy_text(spec.landlock); !builtin.empty()) {
        text = builtin;
    } else {
        source = paths.landlock_policy(spec.name);
        VOLT_TRY_ASSIGN_CTX(text, fs::read_record(source, kMaxRecordBytes),
                            "reading the container's Landlock policy");
    }
    VOLT_TRY_ASSIGN(auto policy, landlock::parse_policy(text, source));
    policy.name = spec.landlock;
    return std::optional<landlock::Policy>(std::move(policy));
}

Result<landlock::Plan> landlock_plan(const Paths& paths, const Spec& spec, landlock::Part part) {
    VOLT_TRY_ASSIGN(auto policy, landlock_policy(paths, spec));
    if (!policy)
        return landlock::Plan{};
    if (part == landlock::Part::exec)
        return exec_landlock_plan(*policy, spec, landlock_abi(paths));
    return landlock::plan(*policy, part, landlock_abi(paths));
}

Result<std::optional<seccomp::Bpf>> seccomp_filter(const Paths& paths, const Spec& spec,
                                                   std::uint64_t caps, const std::string& profile,
                                                   std::string* digest) {
    std::string name = profile.empty() ? spec.seccomp : profile;
    if (digest)
        digest->clear();
    if (name == "unconfined")
        return std::optional<seccomp::Bpf>();
    VOLT_TRY_ASSIGN(std::string text, profile_text(paths, spec, name, profile.empty()));
    seccomp::CompileOptions options;
    options.target.caps = caps;
    options.unknown_syscalls_warn = spec.seccomp_unknown_warn;
    bool hit = false;
    VOLT_TRY_ASSIGN(auto bpf,
                    seccomp::compile_cached(text, name, options, paths.seccomp_cache(), &hit));
    log::debug("seccomp profile %s: %zu instructions (%s)", name.c_str(), bpf.insns.size(),
               hit ? "cached" : "compiled");
    if (digest)
        *digest = seccomp::profile_digest(text);
    return std::optional<seccomp::Bpf>(std::move(bpf));
}

Result<seccomp::Bpf> exec_filter(const Paths& paths, const Spec& spec, const FilterChoice& choice) {
    const bool restrictions = choice.digest.starts_with("nspawn-restrictions ");
    if (!choice.digest.empty())
        if (auto cached =
                seccomp::load_cached(choice.digest, choice.options, paths.seccomp_cache()))
            return std::move(*cached);
    // Not in the cache (first exec on this host, a cache wiped since boot, no digest recorded).
    std::string text;
    if (restrictions) {
        text =
            seccomp::nspawn_restrictions_profile(choice.options.target.caps, choice.foreign_arches);
    } else {
        VOLT_TRY_ASSIGN(text, profile_text(paths, spec, choice.profile, choice.containers_own));
    }
    bool hit = false;
    VOLT_TRY_ASSIGN(auto bpf, seccomp::compile_cached(
                                  text, choice.profile, choice.options, paths.seccomp_cache(), &hit,
                                  restrictions ? choice.digest : std::string()));
    log::debug("seccomp profile %s: %zu instructions (%s)", choice.profile.c_str(),
               bpf.insns.size(), hit ? "cached" : "compiled");
    return bpf;
}

}  // namespace volt::runtime
