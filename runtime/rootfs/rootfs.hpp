// Copying trees of files in-process: a container's root file system from an image (create), and
// files into and out of a container (cp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "base/error.hpp"

namespace volt::rootfs {

struct CopyStats {
    std::uint64_t directories = 0;
    std::uint64_t files = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t special = 0;             // fifos, sockets
    std::uint64_t skipped_devices = 0;     // char and block device nodes, not copied
    std::uint64_t devices = 0;             // the same, copied (CopyOptions::keep_devices)
    std::uint64_t dropped_privileges = 0;  // setuid/setgid bits or file capabilities left out
    std::uint64_t skipped_kernel = 0;      // on /proc, /sys and the like (CopyOptions)
    std::uint64_t bytes = 0;
};

// How a copy treats device nodes, owners and privileges. The default keeps every id as it is.
struct CopyOptions {
    // Copy char and block device nodes too (an image import keeps the tree as it is; create,
    // which copies an image into a container, and cp leave them out).
    bool keep_devices = false;
    // The owner of a copy, from the source's uid (gid); also applied to the ids named in POSIX
    // ACLs. An error (an id the destination cannot hold) fails the copy. Empty: the same id.
    std::function<Result<uid_t>(uid_t)> uid;
    std::function<Result<gid_t>(gid_t)> gid;
    // Leave out the setuid and setgid bits of everything but directories, and file capabilities
    // (security.capability): for copies whose source's owners are not the destination's, where
    // those would grant privileges the source never had.
    bool drop_privileges = false;
    // Leave out (and count in skipped_kernel) directories and files of the kernel's own file
    // systems: proc, sysfs, cgroup, debugfs, tracefs, securityfs, bpf, configfs, efivarfs,
    // pstore. For a source another party mounts things in (a guest can mount a proc of its own
    // anywhere): read with the host's privileges, /proc/kcore is the host's memory.
    bool skip_kernel_files = false;
};

// Copies the tree at src to dst (which must not exist), preserving owners, modes (setuid bits
// included), timestamps, extended attributes (ACLs and file capabilities among them), hard links,
// symlinks (copied as links, never followed), fifos and sockets. Char and block device nodes are
// skipped and counted (skipped_devices): the container's /dev is nspawn's, and a node elsewhere
// would only reach a host device. The walk uses directory fds and O_NOFOLLOW throughout, so a
// symlink in the image can never lead the copy onto the host. File data is cloned where the file
// system supports it (FICLONE), else copy_file_range, with holes kept. Needs CAP_CHOWN for foreign
// owners (and CAP_MKNOD for keep_devices). On error dst is left for the caller to remove.
Result<CopyStats> copy_tree(const std::string& src, const std::string& dst,
                            CopyOptions options = {});

// The same for one entry: src_dir/src_name (a file, directory, symlink, fifo or socket, never
// followed; a device node is skipped) is copied to dst_dir/dst_name, which must not exist. Both
// directories are fds, and every name below them is opened relative to its directory's fd with
// O_NOFOLLOW, so another process renaming, replacing or swapping a symlink into either tree while
// the copy runs cannot make it read or write anything outside the two trees. A source is opened
// as an O_PATH handle and checked before it is opened for reading (a FIFO or device node put in a
// file's place is never opened). `where` names the source in errors. On error what was made of
// dst_name is left for the caller to remove.
Result<CopyStats> copy_at(int src_dir, const std::string& src_name, int dst_dir,
                          const std::string& dst_name, const CopyOptions& options,
                          const std::string& where);

// Whether fd (any kind, O_PATH too) is on one of the kernel's own file systems that
// CopyOptions::skip_kernel_files leaves out; true when fstatfs fails.
bool on_kernel_fs(int fd);

// Removes dir/name and everything below it, relative to dir's fd and never following a symlink.
Status remove_at(int dir, const std::string& name);

}  // namespace volt::rootfs
