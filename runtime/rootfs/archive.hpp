// Unpacking an image tarball into a directory, in-process with libarchive's reader.
//
// libarchive only reads and decompresses here; every file is made by our own code below the
// destination's fd, so that nothing in the archive decides where a file lands:
//   - an entry's path must be relative and free of ".." components (refused otherwise, naming
//     the entry: GNU tar strips a leading '/', we refuse, since an image tarball has no reason
//     to hold one);
//   - its parent directory is resolved with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
//     below the destination, so a symlink the archive made earlier ("a -> /etc", then
//     "a/passwd") is followed as the guest would see it, inside the image, never onto the host;
//   - the entry itself is made with mkdirat/openat(O_CREAT|O_EXCL|O_NOFOLLOW)/symlinkat/mknodat/
//     linkat on that parent fd, so its last component is never followed; what stood there is
//     unlinked first (a later entry wins, as with tar);
//   - a hard link's target obeys the same rules and resolves below the destination too.
// archive_write_disk (and its ARCHIVE_EXTRACT_SECURE_* flags) is not used: it works on path
// strings relative to the current directory, which is the kind of path handling this avoids.
#pragma once

#include <csignal>
#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace volt::rootfs {

struct ExtractStats {
    std::uint64_t directories = 0;
    std::uint64_t files = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t devices = 0;  // char and block device nodes
    std::uint64_t fifos = 0;
    std::uint64_t bytes = 0;         // file data written
    std::uint64_t skipped_acls = 0;  // entries whose POSIX ACLs were not applied
};

// Extracts the tar archive in the regular file `archive` (plain, gzip, xz or zstd; ustar, pax
// and GNU formats) into the existing, empty directory `dst`. Kept: numeric owners, modes (setuid,
// setgid and sticky bits), modification and access times, extended attributes (pax SCHILY.xattr
// and LIBARCHIVE.xattr records: file capabilities, user.*, trusted.*, security.*), device nodes
// (char and block), fifos, symlinks and hard links. Not applied: POSIX ACL records (counted in
// skipped_acls), file flags (chattr). Refused, naming the entry: sockets and any other type,
// absolute paths, ".." components, hard links to directories or outside the image, owners that
// are no uid_t. Needs CAP_CHOWN, CAP_MKNOD, CAP_FOWNER and CAP_SYS_ADMIN (trusted.* xattrs) for
// archives that use them. `cancel`, when set (a signal handler's flag), stops the extraction
// between blocks with EINTR. On error dst holds what was extracted so far, for the caller to
// remove.
Result<ExtractStats> extract_archive(const std::string& archive, const std::string& dst,
                                     const volatile std::sig_atomic_t* cancel = nullptr);

}  // namespace volt::rootfs
