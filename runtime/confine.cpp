#include "runtime/confine.hpp"

#include "base/fs.hpp"

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

}  // namespace volt::runtime
