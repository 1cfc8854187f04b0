#include "runtime/rootfs/archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "base/fd.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "runtime/rootfs/libarchive.hpp"

namespace volt::rootfs {
namespace {

constexpr std::uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

struct ArchiveFree {
    const LibArchive* lib;
    void operator()(archive* a) const { lib->archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// An entry's path as components: "./usr//bin/" → {"usr", "bin"}; "." → {} (the root itself).
// A usage error for an absolute path or a ".." component.
Result<std::vector<std::string>> components(std::string_view path, const std::string& what) {
    if (path.empty())
        return Error::usage(what + ": an empty path");
    if (path.front() == '/')
        return Error::usage(what + ": an absolute path; an image archive holds relative ones");
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t next = path.find('/', pos);
        if (next == std::string_view::npos)
            next = path.size();
        std::string_view c = path.substr(pos, next - pos);
        if (c == "..")
            return Error::usage(what + ": a '..' component, which would leave the image");
        if (!c.empty() && c != ".")
            out.emplace_back(c);
        pos = next + 1;
    }
    return out;
}

std::string joined(const std::vector<std::string>& parts, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s.append(i ? "/" : "").append(parts[i]);
    return s.empty() ? std::string(".") : s;
}

class Extractor {
  public:
    Extractor(const LibArchive& lib, archive* a, int root, std::string archive_name,
              const volatile std::sig_atomic_t* c)
        : lib_(lib), a_(a), root_(root), name_(std::move(archive_name)), cancel_(c) {}

    Result<ExtractStats> run() {
        for (;;) {
            VOLT_TRY(check_cancel());
            archive_entry* e = nullptr;
            int r = lib_.archive_read_next_header(a_, &e);
            if (r == ARCHIVE_EOF)
                break;
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return archive_error("reading");
            VOLT_TRY(entry(e));
            ++entries_;
        }
        if (entries_ == 0)
            return Error::usage(name_ + ": the archive holds no files");
        VOLT_TRY(finish_directories());
        return stats_;
    }

  private:
    Error archive_error(const std::string& doing) const {
        const char* msg = lib_.archive_error_string(a_);
        int code = lib_.archive_errno(a_);
        // A damaged archive is the input's fault, not ours: a usage error, like any bad value.
        std::string text = name_ + ": " + doing + ": " + text::printable(msg ? msg : "failed");
        if (code == ENOSPC || code == EDQUOT || code == EIO)
            return Error(code, text);
        return Error(0, text, ErrorKind::usage);
    }

    Status check_cancel() const {
        if (cancel_ && *cancel_)
            return Error(EINTR, name_ + ": interrupted");
        return {};
    }

    // A parent that is no directory inside the image (a file, a symlink leading nowhere in it,
    // or a loop of them) is the archive's fault: a usage error, like any bad input.
    static Error not_a_directory(int code, const std::string& what, const std::string& path) {
        std::string text = what + ": opening " + text::printable(path) + " below the image";
        if (code == ENOENT || code == ENOTDIR || code == ELOOP)
            return Error(code, text, ErrorKind::usage);
        return Error(code, text);
    }

    // The directory `n` components of `parts` name, below the root: made (0755, root's, as tar
    // does for a directory the archive lists no entry of) where missing when `create`.
    Result<UniqueFd> directory(const std::vector<std::string>& parts, std::size_t n, bool create,
                               const std::string& what) {
        std::string path = joined(parts, n);
        if (cached_ && cached_path_ == path) {
            UniqueFd dup(::fcntl(cached_.get(), F_DUPFD_CLOEXEC, 0));
            if (!dup)
                return Error::from_errno(what + ": dup");
            return dup;
        }
        auto fd = sys::openat2(root_, path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0, kResolve);
        if (!fd && fd.error().code() == ENOENT && create) {
            // One component at a time, each resolved anew below the root.
            UniqueFd at(::fcntl(root_, F_DUPFD_CLOEXEC, 0));
            for (std::size_t i = 0; i < n; ++i) {
                if (::mkdirat(at.get(), parts[i].c_str(), 0755) < 0 && errno != EEXIST)
                    return Error::from_errno(what + ": mkdir " +
                                             text::printable(joined(parts, i + 1)));
                auto next = sys::openat2(root_, joined(parts, i + 1).c_str(),
                                         O_PATH | O_DIRECTORY | O_CLOEXEC, 0, kResolve);
                if (!next)
                    return not_a_directory(next.error().code(), what, joined(parts, i + 1));
                at = std::move(next).value();
            }
            fd = std::move(at);
        }
        if (!fd)
            return not_a_directory(fd.error().code(), what, path);
        cached_.reset(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
        cached_path_ = path;
        return fd;
    }

    // What stands at dir/name goes, unless both it and the new entry are directories (then
    // true: the directory is kept, and only its metadata is the entry's).
    Result<bool> clear(int dir, const std::string& name, bool new_is_dir, const std::string& what) {
        struct stat st;
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                return false;
            return Error::from_errno(what + ": stat");
        }
        if (S_ISDIR(st.st_mode)) {
            if (new_is_dir)
                return true;
            if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0)
                return Error::from_errno(what + ": replacing a directory");
        } else if (::unlinkat(dir, name.c_str(), 0) < 0) {
            return Error::from_errno(what + ": replacing");
        }
        cached_.reset();  // a directory we cached may have been the one replaced
        return false;
    }

    Status entry(archive_entry* e) {
        const char* raw = lib_.archive_entry_pathname(e);
        if (!raw)
            return Error::usage(name_ + ": an entry whose name cannot be read");
        const std::string what = name_ + ": entry '" + text::printable(raw) + "'";
        VOLT_TRY_ASSIGN(auto parts, components(raw, what));
        std::int64_t uid = lib_.archive_entry_uid(e), gid = lib_.archive_entry_gid(e);
        constexpr std::int64_t kMaxId = std::numeric_limits<std::uint32_t>::max() - 1;
        if (uid < 0 || uid > kMaxId || gid < 0 || gid > kMaxId)
            return Error::usage(what + ": owner " + std::to_string(uid) + ":" +
                                std::to_string(gid) + " is no uid/gid");
        if (lib_.archive_entry_acl_count(
                e, ARCHIVE_ENTRY_ACL_TYPE_POSIX1E | ARCHIVE_ENTRY_ACL_TYPE_NFS4) > 0)
            ++stats_.skipped_acls;

        if (const char* target = lib_.archive_entry_hardlink(e))
            return hardlink(parts, target, what);

        auto type = lib_.archive_entry_filetype(e);
        if (parts.empty()) {  // "./": the root's own metadata
            if (type != AE_IFDIR)
                return Error::usage(what + ": the image's root must be a directory");
            UniqueFd root(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!root)
                return Error::from_errno(what + ": open");
            VOLT_TRY(finish_fd(root.get(), e, false, what));
            dirs_.push_back({".", times_of(e)});
            return {};
        }
        const std::string& leaf = parts.back();
        VOLT_TRY_ASSIGN(UniqueFd dir, directory(parts, parts.size() - 1, true, what));
        const char* n = leaf.c_str();
        switch (type) {
            case AE_IFDIR: {
                VOLT_TRY_ASSIGN(bool kept, clear(dir.get(), leaf, true, what));
                if (!kept && ::mkdirat(dir.get(), n, 0700) < 0)
                    return Error::from_errno(what + ": mkdir");
                UniqueFd d(::openat(dir.get(), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                if (!d)
                    return Error::from_errno(what + ": open");
                VOLT_TRY(finish_fd(d.get(), e, false, what));
                // Times last, once the directory's entries are made (they change its mtime).
                dirs_.push_back({joined(parts, parts.size()), times_of(e)});
                ++stats_.directories;
                return {};
            }
            case AE_IFREG: {
                VOLT_TRY(clear(dir.get(), leaf, false, what));
                UniqueFd f(::openat(dir.get(), n,
                                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                                    0600));
                if (!f)
                    return Error::from_errno(what + ": create");
                VOLT_TRY(write_data(f.get(), e, what));
                VOLT_TRY(finish_fd(f.get(), e, true, what));
                ++stats_.files;
                return {};
            }
            case AE_IFLNK: {
                const char* target = lib_.archive_entry_symlink(e);
                if (!target || !*target)
                    return Error::usage(what + ": a symlink without a target");
                VOLT_TRY(clear(dir.get(), leaf, false, what));
                // Made as a link, never followed: its target is only text to us.
                if (::symlinkat(target, dir.get(), n) < 0)
                    return Error::from_errno(what + ": symlink");
                VOLT_TRY(finish_name(dir.get(), leaf, e, true, what));
                ++stats_.symlinks;
                return {};
            }
            case AE_IFCHR:
            case AE_IFBLK:
            case AE_IFIFO: {
                VOLT_TRY(clear(dir.get(), leaf, false, what));
                dev_t dev = type == AE_IFIFO ? 0
                                             : makedev(lib_.archive_entry_rdevmajor(e),
                                                       lib_.archive_entry_rdevminor(e));
                if (::mknodat(dir.get(), n, static_cast<mode_t>(type) | 0600, dev) < 0)
                    return Error::from_errno(what + ": mknod");
                VOLT_TRY(finish_name(dir.get(), leaf, e, false, what));
                ++(type == AE_IFIFO ? stats_.fifos : stats_.devices);
                return {};
            }
            case AE_IFSOCK:
                return Error::usage(what + ": a socket, which an image cannot hold (refused)");
            default: {
                char mode[16];
                std::snprintf(mode, sizeof mode, "%06o", static_cast<unsigned>(type));
                return Error::usage(what + ": an entry of unsupported type (file type bits " +
                                    mode + "; refused)");
            }
        }
    }

    Status hardlink(const std::vector<std::string>& parts, const char* target,
                    const std::string& what) {
        if (parts.empty())
            return Error::usage(what + ": a hard link in place of the image's root");
        VOLT_TRY_ASSIGN(auto to, components(target, what + " (hard link target)"));
        if (to.empty())
            return Error::usage(what + ": a hard link to the image's root directory");
        VOLT_TRY_ASSIGN(UniqueFd from_dir, directory(to, to.size() - 1, false, what));
        struct stat st;
        if (::fstatat(from_dir.get(), to.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno(what + ": hard link target '" + text::printable(target) + "'");
        if (S_ISDIR(st.st_mode))
            return Error::usage(what + ": a hard link to a directory");
        VOLT_TRY_ASSIGN(UniqueFd dir, directory(parts, parts.size() - 1, true, what));
        if (::fstatat(dir.get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            // "a" hard-linked to itself (some tars record a second pass so): nothing to do.
            struct stat src;
            if (::fstatat(from_dir.get(), to.back().c_str(), &src, AT_SYMLINK_NOFOLLOW) == 0 &&
                src.st_ino == st.st_ino && src.st_dev == st.st_dev)
                return {};
        }
        VOLT_TRY(clear(dir.get(), parts.back(), false, what));
        // linkat without AT_SYMLINK_FOLLOW links the target's own inode: a symlink stays one.
        if (::linkat(from_dir.get(), to.back().c_str(), dir.get(), parts.back().c_str(), 0) < 0)
            return Error::from_errno(what + ": link");
        ++stats_.hardlinks;
        return {};
    }

    Status write_data(int fd, archive_entry* e, const std::string& what) {
        for (;;) {
            VOLT_TRY(check_cancel());
            const void* buf = nullptr;
            std::size_t size = 0;
            la_int64_t offset = 0;
            int r = lib_.archive_read_data_block(a_, &buf, &size, &offset);
            if (r == ARCHIVE_EOF)
                break;
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return archive_error("reading " + what.substr(name_.size() + 2));
            const char* p = static_cast<const char*>(buf);
            while (size > 0) {
                ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0)
                    return Error::from_errno(what + ": write");
                p += n;
                size -= static_cast<std::size_t>(n);
                offset += n;
                stats_.bytes += static_cast<std::uint64_t>(n);
            }
        }
        // A sparse file's trailing hole has no block to write.
        if (lib_.archive_entry_size_is_set(e) && ::ftruncate(fd, lib_.archive_entry_size(e)) < 0)
            return Error::from_errno(what + ": truncate");
        return {};
    }

    struct Times {
        timespec t[2];
    };
    Times times_of(archive_entry* e) const {
        Times t{};
        t.t[1] = lib_.archive_entry_mtime_is_set(e)
                     ? timespec{lib_.archive_entry_mtime(e), lib_.archive_entry_mtime_nsec(e)}
                     : timespec{0, UTIME_OMIT};
        t.t[0] = lib_.archive_entry_atime_is_set(e)
                     ? timespec{lib_.archive_entry_atime(e), lib_.archive_entry_atime_nsec(e)}
                     : t.t[1];
        return t;
    }

    // Owner, xattrs, mode, times for an inode we have open. chown first: it clears setuid bits
    // and file capabilities; the mode after the xattrs.
    // Directories get their times at the end (finish_directories).
    Status finish_fd(int fd, archive_entry* e, bool set_times, const std::string& what) {
        if (::fchown(fd, static_cast<uid_t>(lib_.archive_entry_uid(e)),
                     static_cast<gid_t>(lib_.archive_entry_gid(e))) < 0)
            return Error::from_errno(what + ": chown");
        VOLT_TRY(xattrs(e, what, [fd](const char* k, const void* v, std::size_t n) {
            return ::fsetxattr(fd, k, v, n, 0);
        }));
        if (::fchmod(fd, lib_.archive_entry_perm(e) & 07777) < 0)
            return Error::from_errno(what + ": chmod");
        if (set_times) {
            Times t = times_of(e);
            if (::futimens(fd, t.t) < 0)
                return Error::from_errno(what + ": set times");
        }
        return {};
    }

    // The same by name, for inodes we must not open (symlinks, devices, fifos).
    Status finish_name(int dir, const std::string& name, archive_entry* e, bool symlink,
                       const std::string& what) {
        const char* n = name.c_str();
        if (::fchownat(dir, n, static_cast<uid_t>(lib_.archive_entry_uid(e)),
                       static_cast<gid_t>(lib_.archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno(what + ": chown");
        // l*xattr through /proc/self/fd/DIR/NAME: the directory fd is followed, NAME is not.
        std::string path = "/proc/self/fd/" + std::to_string(dir) + "/" + name;
        VOLT_TRY(xattrs(e, what, [&path](const char* k, const void* v, std::size_t len) {
            return ::lsetxattr(path.c_str(), k, v, len, 0);
        }));
        // fchmodat follows a symlink, and this name is no symlink: we just made the node.
        if (!symlink && ::fchmodat(dir, n, lib_.archive_entry_perm(e) & 07777, 0) < 0)
            return Error::from_errno(what + ": chmod");
        Times t = times_of(e);
        if (::utimensat(dir, n, t.t, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno(what + ": set times");
        return {};
    }

    template <class Set>
    Status xattrs(archive_entry* e, const std::string& what, Set set) {
        if (lib_.archive_entry_xattr_reset(e) == 0)
            return {};
        const char* key = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        while (lib_.archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
            if (!key || !*key)
                continue;
            if (set(key, value, size) < 0)
                return Error::from_errno(what + ": setting xattr " + text::printable(key));
        }
        return {};
    }

    // Directory times, deepest first, now that nothing is made in them any more.
    Status finish_directories() {
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            auto fd = sys::openat2(root_, it->path.c_str(),
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, kResolve);
            if (!fd)
                continue;  // replaced by a later entry
            if (::futimens(fd->get(), it->times.t) < 0)
                return Error::from_errno(name_ + ": setting the times of " +
                                         text::printable(it->path));
        }
        return {};
    }

    struct Dir {
        std::string path;
        Times times;
    };

    const LibArchive& lib_;
    archive* a_;
    int root_;
    std::string name_;
    const volatile std::sig_atomic_t* cancel_;
    std::vector<Dir> dirs_;
    UniqueFd cached_;  // the parent directory of the last entry, by its path
    std::string cached_path_;
    std::uint64_t entries_ = 0;
    ExtractStats stats_;
};

}  // namespace

Result<ExtractStats> extract_archive(const std::string& path, const std::string& dst,
                                     const volatile std::sig_atomic_t* cancel) {
    UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!file)
        return Error::from_errno("open " + path);
    struct stat st;
    if (::fstat(file.get(), &st) < 0)
        return Error::from_errno("stat " + path);
    if (!S_ISREG(st.st_mode))
        return Error::usage(path + ": not a regular file");
    UniqueFd root(::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root)
        return Error::from_errno("open " + dst);

    VOLT_TRY_ASSIGN(const LibArchive* loaded, libarchive());
    const LibArchive& lib = *loaded;
    ArchivePtr a(lib.archive_read_new(), ArchiveFree{&lib});
    if (!a)
        return Error(ENOMEM, "archive_read_new");
    // Each filter must be built in: ARCHIVE_WARN means libarchive would run an external program
    // (gzip, xz, zstd) for it, and volt-run runs no program but nspawn and the user's.
    for (auto [support, filter] : {std::pair{lib.archive_read_support_filter_gzip, "gzip"},
                                   std::pair{lib.archive_read_support_filter_xz, "xz"},
                                   std::pair{lib.archive_read_support_filter_zstd, "zstd"}})
        if (support(a.get()) != ARCHIVE_OK)
            return Error(ENOTSUP, std::string("this libarchive reads ") + filter +
                                      " only through an external program");
    if (lib.archive_read_support_format_tar(a.get()) != ARCHIVE_OK ||
        lib.archive_read_support_format_gnutar(a.get()) != ARCHIVE_OK)
        return Error(ENOTSUP, "this libarchive reads no tar archives");
    if (lib.archive_read_open_fd(a.get(), file.get(), 1 << 16) != ARCHIVE_OK) {
        const char* msg = lib.archive_error_string(a.get());
        return Error::usage(path + ": " + text::printable(msg ? msg : "not an archive"));
    }
    return Extractor(lib, a.get(), root.get(), path, cancel).run();
}

}  // namespace volt::rootfs
