// The store: a container's files in the data root as the verbs read them. The per-container
// lock, and the spec loaded and checked again (a spec in the data root is not trusted).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"

namespace volt::runtime {

// The per-container lock (ROOT/config/NAME/lock). Acquiring it re-checks that the lock file is
// still the one in the directory, so a waiter that wakes after a concurrent delete sees that the
// container is gone instead of locking a removed file.
Result<fs::FileLock> lock_container(const Paths& paths, const std::string& name);

// The spec of an existing container; a usage error naming it when there is none.
Result<Spec> load_spec(const Paths& paths, const std::string& name);

// A spec read back is checked again where boot makes it mounts and nspawn settings: a spec edited
// (or planted) in the data root must not bind over /proc, carry a line break into nspawn's
// settings, or bind a volume source that has become a symlink since create (check_volume_source).
// Not part of load_spec, so that delete still removes a container whose spec fails it.
Status check_stored_spec(const Spec& spec);

// A volume whose host path is the data root or inside it would hand the container volt-run's own
// files: other containers' specs and states, and the images that overlay containers use as their
// read-only lower layers. Refused at create and again at boot (the spec may have been edited).
Status refuse_volumes_in_data_root(const Paths& paths, const Spec& spec);

// create: a host port of spec's forwards that another container's spec forwards too is refused,
// naming that container (clashing_port). Specs that cannot be read are passed over: they are
// listed as broken, and boot checks again against what runs.
Status refuse_claimed_ports(const Paths& paths, const Spec& spec);

// The container's lock, held, and its spec: how every verb that changes a container begins.
struct Locked {
    fs::FileLock lock;
    Spec spec;
};
Result<Locked> lock_and_load(const Paths& paths, const std::string& name);

}  // namespace volt::runtime
