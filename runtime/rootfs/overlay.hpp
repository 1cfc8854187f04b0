// The overlay root file system of a container created with --rootfs overlay: the image as the
// read-only lower layer, the container's own upper and work directories beside it.
//
// The overlay is made with the new mount API (fsopen("overlay"), fsconfig, fsmount), and each
// layer is handed to the kernel as a directory fd (FSCONFIG_SET_FD, "lowerdir+", Linux 6.13 for
// fds): no path string is ever parsed as mount options, so a ',' ':' or '\' in a path cannot add
// a layer or an option. The result is a detached mount: reachable only through its fd, in no
// mount namespace, and gone when the last fd is closed. `boot` attaches it in a mount namespace of
// its own just before it executes nspawn; `cp` of a stopped container and `create` use it
// detached, so volt-run never leaves a mount behind on the host.
//
// A container with a user namespace sees the lower layer through an id-mapped mount (host ids
// 0..65535 as shift..shift+65535): nspawn 252 cannot id-map an overlay (it would chown every file
// instead, copying the whole image up), but finds the root already shifted and uses that range.
// The shift is the owner of the upper directory, chosen once at create (pick_shift).
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::rootfs {

// A container's id range: 65536 ids (nspawn's --private-users=pick), at a multiple of 65536 in
// the range nspawn picks from.
inline constexpr uid_t kIdRange = 0x10000;
inline constexpr uid_t kShiftMin = 0x00080000;
inline constexpr uid_t kShiftMax = 0x6FFF0000;

// Whether shift is one pick_shift could return.
bool valid_shift(uid_t shift);

// A shift for container `name`: derived from the name, skipping ranges a running nspawn holds
// (its lock files, /run/systemd/nspawn-uid/SHIFT). nspawn tries the root's shift first at boot
// and picks another if it is taken since, then chowns (correct, only slow).
// `taken`: ranges other containers' roots are owned by (their first ids), skipped as well, so
// that nspawn never has to pick another range and chown (copy up) the whole tree.
uid_t pick_shift(std::string_view name, const std::set<uid_t>& taken = {});

// The merged tree as a detached mount (an O_PATH-like fd of its root). lower, upper and work are
// directory fds (O_PATH is enough); upper and work on one file system. shift 0: no id mapping;
// otherwise the lower layer is mounted id-mapped to shift. Needs CAP_SYS_ADMIN (real root).
Result<UniqueFd> mount_overlay(int lower, int upper, int work, uid_t shift);

// The same tree read-only, for reading a stopped container's files without a lock: upper is the
// top lower layer (its whiteouts and opaque directories hide what they hide), no workdir, and
// nothing of either layer is written. Mounted nodev, nosuid and noexec.
Result<UniqueFd> mount_overlay_readonly(int upper, int lower);

// Moves this process into a mount namespace of its own whose mounts do not propagate to the
// host's (MS_SLAVE), and attaches `mount` (from mount_overlay) at target there. The process must
// be single-threaded.
Status attach_private(int mount, const std::string& target);

// Whether this kernel makes overlays with fd layers, and id-maps a directory on the file system of
// `dir`. An error names what is missing.
Status probe_overlay();
Status probe_idmap(const std::string& dir);

}  // namespace volt::rootfs
