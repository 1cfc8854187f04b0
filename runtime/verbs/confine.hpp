// Confinement of a container's processes: which Landlock policy applies and what of it the
// running kernel enforces, for boot (network and scopes) and for exec (everything).
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"
#include "landlock/landlock.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "seccomp-profiles/seccomp.hpp"

namespace volt::runtime {

// The container's policy, or nullopt for --landlock none.
Result<std::optional<landlock::Policy>> landlock_policy(const Paths& paths, const Spec& spec);

// What the running kernel enforces of the container's policy where `part` applies. With
// LandlockMode::require, an incomplete plan is an error naming what cannot be enforced.
Result<landlock::Plan> landlock_plan(const Paths& paths, const Spec& spec, landlock::Part part,
                                     LandlockMode mode);

// The container's seccomp filter for a process with capabilities `caps` (nullopt for
// unconfined), compiled or taken from the cache. `profile` overrides the container's.
Result<std::optional<seccomp::Bpf>> seccomp_filter(const Paths& paths, const Spec& spec,
                                                   std::uint64_t caps,
                                                   const std::string& profile = {});

// What systemd-nspawn refuses the guest's processes, for a command joining a container whose
// init has the capability bounding set `bounding`; compiled or taken from the cache.
Result<seccomp::Bpf> nspawn_restrictions_filter(const Paths& paths, std::uint64_t bounding);

}  // namespace volt::runtime
