// Confinement of a container's processes: which Landlock policy applies and what of it the
// running kernel enforces, for boot (network and scopes) and for exec (everything), and the
// seccomp filters, compiled or taken from the cache.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/exec_plan.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "seccomp-profiles/seccomp.hpp"

namespace volt::runtime {

// The running kernel's Landlock ABI (0 without Landlock), capped by VOLT_LANDLOCK_MAX_ABI
// (paths.landlock_max_abi) to act as an older kernel would.
int landlock_abi(const Paths& paths);

// The container's policy, or nullopt for --landlock none.
Result<std::optional<landlock::Policy>> landlock_policy(const Paths& paths, const Spec& spec);

// What the running kernel enforces of the container's policy where `part` applies (whether that
// is enough is check_landlock_mode's to say).
Result<landlock::Plan> landlock_plan(const Paths& paths, const Spec& spec, landlock::Part part);

// The container's seccomp filter for a process with capabilities `caps` (nullopt for
// unconfined), compiled or taken from the cache. `profile` overrides the container's. `digest`,
// when given, gets the profile's seccomp::profile_digest (empty for unconfined).
Result<std::optional<seccomp::Bpf>> seccomp_filter(const Paths& paths, const Spec& spec,
                                                   std::uint64_t caps,
                                                   const std::string& profile = {},
                                                   std::string* digest = nullptr);

// The filter an ExecPlan names: from the cache by its digest when the plan has one (one file
// read, nothing parsed or hashed), else the profile's text is read, hashed and compiled as
// compile_cached does. `spec` says where the container's own custom profile is kept.
Result<seccomp::Bpf> exec_filter(const Paths& paths, const Spec& spec, const FilterChoice& choice);

}  // namespace volt::runtime
