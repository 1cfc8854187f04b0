// Confinement of a container's processes: which Landlock policy applies and what of it the
// running kernel enforces, for boot (network and scopes) and for exec (everything).
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"
#include "landlock/landlock.hpp"
#include "runtime/paths.hpp"
#include "runtime/spec.hpp"

namespace volt::runtime {

// The container's policy, or nullopt for --landlock none.
Result<std::optional<landlock::Policy>> landlock_policy(const Paths& paths, const Spec& spec);

// What the running kernel enforces of the container's policy where `part` applies. With
// LandlockMode::require, an incomplete plan is an error naming what cannot be enforced.
Result<landlock::Plan> landlock_plan(const Paths& paths, const Spec& spec, landlock::Part part,
                                     LandlockMode mode);

}  // namespace volt::runtime
