// Making a container's root file system from an image, in-process.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace volt::rootfs {

struct CopyStats {
    std::uint64_t directories = 0;
    std::uint64_t files = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t special = 0;          // fifos, sockets
    std::uint64_t skipped_devices = 0;  // char and block device nodes, not copied
    std::uint64_t devices = 0;          // the same, copied (CopyOptions::keep_devices)
    std::uint64_t bytes = 0;
};

struct CopyOptions {
    // Copy char and block device nodes too (an image import keeps the tree as it is; create,
    // which copies an image into a container, leaves them out).
    bool keep_devices = false;
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

}  // namespace volt::rootfs
