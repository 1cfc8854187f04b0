// libarchive, loaded with dlopen on first use, as units/libsystemd.hpp loads libsystemd: only
// `image import` of an archive reads one, and every library linked into volt-run would be mapped
// and relocated at every `exec` (libarchive.so.13 brings a dozen more: libxml2, ICU, nettle, …;
// docs/BENCHMARKS.md has what each costs). The Debian package therefore only Recommends
// libarchive13; without it, an archive import fails in one line naming the package.
//
// The function pointers have the types of the declarations in <archive.h> and
// <archive_entry.h>, so every call is checked by the compiler as if it were linked.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "base/error.hpp"

namespace volt::rootfs {

// X(name) for every libarchive function volt-run calls (the reader only).
#define VOLT_LIBARCHIVE_FUNCTIONS(X)      \
    X(archive_read_new)                   \
    X(archive_read_free)                  \
    X(archive_read_support_filter_gzip)   \
    X(archive_read_support_filter_xz)     \
    X(archive_read_support_filter_zstd)   \
    X(archive_read_support_format_tar)    \
    X(archive_read_support_format_gnutar) \
    X(archive_read_open_fd)               \
    X(archive_read_next_header)           \
    X(archive_read_data_block)            \
    X(archive_error_string)               \
    X(archive_errno)                      \
    X(archive_entry_pathname)             \
    X(archive_entry_hardlink)             \
    X(archive_entry_symlink)              \
    X(archive_entry_filetype)             \
    X(archive_entry_perm)                 \
    X(archive_entry_uid)                  \
    X(archive_entry_gid)                  \
    X(archive_entry_rdevmajor)            \
    X(archive_entry_rdevminor)            \
    X(archive_entry_size)                 \
    X(archive_entry_size_is_set)          \
    X(archive_entry_mtime)                \
    X(archive_entry_mtime_nsec)           \
    X(archive_entry_mtime_is_set)         \
    X(archive_entry_atime)                \
    X(archive_entry_atime_nsec)           \
    X(archive_entry_atime_is_set)         \
    X(archive_entry_acl_count)            \
    X(archive_entry_xattr_reset)          \
    X(archive_entry_xattr_next)

struct LibArchive {
#define VOLT_DECLARE(name) decltype(&::name) name = nullptr;
    VOLT_LIBARCHIVE_FUNCTIONS(VOLT_DECLARE)
#undef VOLT_DECLARE
};

// Loads libarchive.so.13 once per process; the same table afterwards. An error names the library
// and its package, or the missing symbol.
Result<const LibArchive*> libarchive();

}  // namespace volt::rootfs
