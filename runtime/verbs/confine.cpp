#include "runtime/verbs/confine.hpp"

#include "base/fs.hpp"
#include "base/log.hpp"

namespace volt::runtime {

Result<std::optional<landlock::Policy>> landlock_policy(const Paths& paths, const Spec& spec) {
    if (spec.landlock == "none")
        return std::optional<landlock::Policy>();
    std::string text;
    std::string source = spec.landlock;
    if (auto builtin = landlock::builtin_policy_text(spec.landlock); !builtin.empty()) {
        text = builtin;
    } else {
        source = paths.landlock_policy(spec.name);
        auto stored = fs::read_file(source);
        if (!stored)
            return std::move(stored).error().context("reading the container's Landlock policy");
        text = std::move(stored).value();
    }
    auto policy = landlock::parse_policy(text, source);
    if (!policy)
        return std::move(policy).error();
    policy->name = spec.landlock;
    return std::optional<landlock::Policy>(std::move(policy).value());
}

Result<landlock::Plan> landlock_plan(const Paths& paths, const Spec& spec, landlock::Part part,
                                     LandlockMode mode) {
    auto policy = landlock_policy(paths, spec);
    if (!policy)
        return std::move(policy).error();
    if (!*policy)
        return landlock::Plan{};
    landlock::Plan plan = landlock::plan(**policy, part, landlock::probe_abi());
    if (mode == LandlockMode::require && !plan.complete())
        return Error(
            0, "Landlock policy " + spec.landlock + " is required but " +
                   (plan.abi == 0 ? std::string("this kernel has no Landlock") : plan.describe()) +
                   " (use --landlock-mode best-effort to run anyway)");
    return plan;
}

Result<std::optional<seccomp::Bpf>> seccomp_filter(const Paths& paths, const Spec& spec,
                                                   std::uint64_t caps, const std::string& profile) {
    std::string name = profile.empty() ? spec.seccomp : profile;
    if (name == "unconfined")
        return std::optional<seccomp::Bpf>();
    std::string text;
    if (auto builtin = seccomp::builtin_profile_text(name); !builtin.empty()) {
        text = builtin;
    } else {
        // The container's own custom profile is create's copy; one given to exec is read now.
        std::string file = profile.empty() ? paths.seccomp_profile(spec.name) : profile;
        auto stored = fs::read_file(file);
        if (!stored)
            return std::move(stored).error().context("reading seccomp profile");
        text = std::move(stored).value();
    }
    seccomp::CompileOptions options;
    options.target.caps = caps;
    options.unknown_syscalls_warn = spec.seccomp_unknown_warn;
    bool hit = false;
    auto bpf = seccomp::compile_cached(text, name, options, paths.seccomp_cache(), &hit);
    if (!bpf)
        return std::move(bpf).error();
    log::debug("seccomp profile %s: %zu instructions (%s)", name.c_str(), bpf->insns.size(),
               hit ? "cached" : "compiled");
    return std::optional<seccomp::Bpf>(std::move(bpf).value());
}

Result<seccomp::Bpf> nspawn_restrictions_filter(const Paths& paths, std::uint64_t bounding) {
    seccomp::CompileOptions options;
    options.target.caps = bounding;
    // Names this libseccomp does not know are calls it cannot build a rule for on any
    // architecture; the container's profile refuses those (ENOSYS) unless it is unconfined.
    options.unknown_syscalls_warn = true;
    return seccomp::compile_cached(seccomp::nspawn_restrictions_profile(bounding),
                                   "systemd-nspawn's restrictions", options, paths.seccomp_cache());
}

}  // namespace volt::runtime
