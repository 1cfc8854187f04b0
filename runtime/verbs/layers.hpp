// The root file system of a container on disk, whichever way create made it: the directory
// ROOT/containers/NAME (--rootfs copy), or the overlay of its image and its own upper directory
// (--rootfs overlay, rootfs/overlay.hpp), mounted detached, in no mount namespace.
#pragma once

#include <string>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/rootfs/container_root.hpp"

namespace volt::runtime {

// Whether `image` (resolve_image's absolute path) may be an overlay's lower layer: an image
// imported under ROOT/images, where only root can reach it (ROOT/images is root's, mode 0700)
// and `image rm` refuses it while a container uses it. Any other directory could be changed under
// the container by whoever can write to it, which overlayfs leaves undefined. A usage error
// naming the image otherwise.
Status check_lower_image(const Paths& paths, const std::string& image);

// The lower layer itself, opened as check_lower_image checks it (O_PATH): ROOT/images not a
// symlink, root's and 0700; the image reached below it without following any link, root's. Every
// mount of an overlay container's tree takes its lower layer from here, so that a spec.json
// changed since create cannot make another directory the container's root.
Result<UniqueFd> open_lower_image(const Paths& paths, const std::string& image);

// The merged tree of an overlay container, as a detached mount (its fd). The lower layer is
// id-mapped to the container's id range (the owner of its upper directory) when it has a user
// namespace. Never while the container runs: its upper directory is in use (the caller holds the
// container's lock and found no run).
Result<UniqueFd> mount_container_overlay(const Paths& paths, const Spec& spec);

// The same merged tree read-only (rootfs::mount_overlay_readonly), not id-mapped: for reading an
// overlay container's files while nothing else may be changing them, with no lock.
Result<UniqueFd> mount_container_overlay_readonly(const Paths& paths, const Spec& spec);

// The root file system of a stopped container: its directory, or its merged overlay tree, which
// `mount` keeps mounted (detached) for as long as the caller keeps it.
Result<rootfs::ContainerRoot> open_stopped_root(const Paths& paths, const Spec& spec,
                                                UniqueFd& mount);

}  // namespace volt::runtime
