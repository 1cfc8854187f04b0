// What volt-run asks of systemd-nspawn and systemd for a spec: pure functions, tested byte for
// byte, so the side-effecting boot code only executes their output.
#pragma once

#include <string>
#include <vector>

#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "units/units.hpp"

namespace volt::runtime {

inline constexpr const char* kNspawnPath = "/usr/bin/systemd-nspawn";

// Facts of the host at boot time that change the command line.
struct BootHost {
    bool system_bus = false;  // machined can register the machine
    // boot built the container's network and starts nspawn inside its network namespace. nspawn
    // then gets no network option: --network-namespace-path= cannot be combined with
    // --private-users in systemd 252 (nspawn joins after creating the user namespace, and the
    // kernel refuses; systemd issue #36363, fixed in v259), while a namespace nspawn starts in is
    // simply kept.
    bool network_prepared = false;
};

// The full argv for execve(systemd-nspawn), argv[0] included.
std::vector<std::string> nspawn_argv(const Spec& spec, const Paths& paths, const BootHost& host);

// The NAME.nspawn settings matching nspawn_argv.
units::NspawnSettings nspawn_settings(const Spec& spec);

// How the container's unit runs volt-run: this binary and the paths that are not the defaults.
std::vector<std::string> unit_command(const std::string& volt_run, const Paths& paths);

// Environment every container gets: VOLT_CONTAINER, VOLT_RUNTIME (as the old backend set them),
// VOLT_KERNEL when a kernel was named, then the spec's --env values.
std::vector<std::string> container_environment(const Spec& spec);

}  // namespace volt::runtime
