#include "runtime/rootfs/rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/syscalls.hpp"
#include "runtime/rootfs/container_root.hpp"

namespace volt::rootfs {
namespace {

class TreeCopier {
  public:
    explicit TreeCopier(CopyOptions options) : options_(options) {}

    Result<CopyStats> run(const std::string& src, const std::string& dst) {
        // The image directory itself may be reached through a symlink; nothing below it is.
        int s = ::open(src.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0)
            return Error::from_errno("open " + src);
        UniqueFd src_fd(s);
        struct stat st;
        if (::fstat(s, &st) < 0)
            return Error::from_errno("stat " + src);
        if (::mkdir(dst.c_str(), 0700) < 0)
            return Error::from_errno("mkdir " + dst);
        int d = ::open(dst.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
            return Error::from_errno("open " + dst);
        dst_root_ = UniqueFd(d);
        src_root_ = src;
        VOLT_TRY(copy_dir(src_fd.get(), dst_root_.get(), ""));
        VOLT_TRY(finish_inode(src_fd.get(), dst_root_.get(), st, "."));
        ++stats_.directories;
        return stats_;
    }

  private:
    std::string where(const std::string& rel) const { return src_root_ + "/" + rel; }

    Status copy_dir(int src_dir, int dst_dir, const std::string& rel_dir) {
        VOLT_TRY_ASSIGN_CTX(auto names, fs::list_dir(src_dir), "reading " + where(rel_dir));
        for (const auto& name : names) {
            std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
            VOLT_TRY(copy_entry(src_dir, dst_dir, name, rel));
        }
        return {};
    }

    Status copy_entry(int src_dir, int dst_dir, const std::string& name, const std::string& rel) {
        struct stat st;
        if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("stat " + where(rel));
        const char* n = name.c_str();

        // Device nodes are never copied. nspawn mounts a /dev of its own over the image's, so
        // nodes there are never seen; a node anywhere else is only a way to reach a host device
        // (b 7:0 opens the host's loop0). Counted, for create's warning.
        if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !options_.keep_devices) {
            ++stats_.skipped_devices;
            return {};
        }

        if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
            auto key = std::make_pair(st.st_dev, st.st_ino);
            auto it = links_.find(key);
            if (it != links_.end()) {
                if (::linkat(dst_root_.get(), it->second.c_str(), dst_dir, n, 0) < 0)
                    return Error::from_errno("link " + where(rel));
                ++stats_.hardlinks;
                return {};
            }
            links_.emplace(key, rel);
        }

        if (S_ISDIR(st.st_mode)) {
            if (::mkdirat(dst_dir, n, 0700) < 0)
                return Error::from_errno("mkdir " + where(rel));
            int s = ::openat(src_dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s < 0)
                return Error::from_errno("open " + where(rel));
            UniqueFd sfd(s);
            int d = ::openat(dst_dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (d < 0)
                return Error::from_errno("open copy of " + where(rel));
            UniqueFd dfd(d);
            VOLT_TRY(copy_dir(sfd.get(), dfd.get(), rel));
            // Directory metadata last: creating children would change its timestamps.
            VOLT_TRY(finish_inode(sfd.get(), dfd.get(), st, rel));
            ++stats_.directories;
        } else if (S_ISREG(st.st_mode)) {
            int s = ::openat(src_dir, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (s < 0)
                return Error::from_errno("open " + where(rel));
            UniqueFd sfd(s);
            int d =
                ::openat(dst_dir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (d < 0)
                return Error::from_errno("create copy of " + where(rel));
            UniqueFd dfd(d);
            VOLT_TRY(copy_data(sfd.get(), dfd.get(), st, rel));
            VOLT_TRY(finish_inode(sfd.get(), dfd.get(), st, rel));
            ++stats_.files;
        } else if (S_ISLNK(st.st_mode)) {
            // Not sized by st_size, which the file system reports (a FUSE one can claim any
            // size) and which is stale if the link changed since: symlink(2) takes at most
            // PATH_MAX, and a longer answer would have been cut.
            char buf[PATH_MAX];
            ssize_t len = ::readlinkat(src_dir, n, buf, sizeof buf);
            if (len < 0)
                return Error::from_errno("readlink " + where(rel));
            if (static_cast<size_t>(len) == sizeof buf)
                return Error(ENAMETOOLONG, "readlink " + where(rel));
            std::string target(buf, static_cast<size_t>(len));
            if (::symlinkat(target.c_str(), dst_dir, n) < 0)
                return Error::from_errno("symlink " + where(rel));
            VOLT_TRY(finish_by_name(src_dir, dst_dir, name, st, rel));
            ++stats_.symlinks;
        } else {
            // Fifos, sockets (and device nodes with keep_devices): recreated, never opened
            // (opening a fifo blocks, opening a device acts on it).
            if (::mknodat(dst_dir, n, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0)
                return Error::from_errno("mknod " + where(rel));
            VOLT_TRY(finish_by_name(src_dir, dst_dir, name, st, rel));
            ++(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? stats_.devices : stats_.special);
        }
        return {};
    }

    Status copy_data(int src, int dst, const struct stat& st, const std::string& rel) {
        if (st.st_size == 0)
            return {};
        if (try_clone_) {
            if (::ioctl(dst, FICLONE, src) == 0) {
                stats_.bytes += static_cast<std::uint64_t>(st.st_size);
                return {};
            }
            // Not a reflink-capable file system (or across file systems): stop asking.
            if (errno == EOPNOTSUPP || errno == EXDEV || errno == EINVAL || errno == ENOTTY)
                try_clone_ = false;
            else
                return Error::from_errno("clone " + where(rel));
        }
        // Keep holes of sparse files: copy only the data extents, then set the size.
        bool sparse = st.st_blocks * 512 < st.st_size;
        off_t pos = 0;
        while (pos < st.st_size) {
            off_t data = pos, hole = st.st_size;
            if (sparse) {
                data = ::lseek(src, pos, SEEK_DATA);
                if (data < 0) {
                    if (errno == ENXIO)
                        break;  // only a hole is left
                    return Error::from_errno("seek " + where(rel));
                }
                hole = ::lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                    return Error::from_errno("seek " + where(rel));
            }
            loff_t in = data, out = data;
            size_t left = static_cast<size_t>(hole - data);
            while (left > 0) {
                ssize_t n = ::copy_file_range(src, &in, dst, &out, left, 0);
                if (n < 0) {
                    if (errno == EINTR)
                        continue;
                    return Error::from_errno("copy " + where(rel));
                }
                if (n == 0)
                    break;  // the file shrank while we copied
                left -= static_cast<size_t>(n);
                stats_.bytes += static_cast<std::uint64_t>(n);
            }
            pos = hole;
        }
        if (sparse && ::ftruncate(dst, st.st_size) < 0)
            return Error::from_errno("truncate copy of " + where(rel));
        return {};
    }

    // Owner, extended attributes, mode, times, for an inode open on both sides. Order matters:
    // chown clears setuid bits and file capabilities, so it comes first, mode after xattrs.
    Status finish_inode(int src, int dst, const struct stat& st, const std::string& rel) {
        if (::fchown(dst, st.st_uid, st.st_gid) < 0)
            return Error::from_errno("chown " + where(rel));
        VOLT_TRY(copy_xattrs_fd(src, dst, rel));
        if (::fchmod(dst, st.st_mode & 07777) < 0)
            return Error::from_errno("chmod " + where(rel));
        timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(dst, times) < 0)
            return Error::from_errno("set times of " + where(rel));
        return {};
    }

    // The same for inodes we cannot open (symlinks, device nodes, fifos, sockets).
    Status finish_by_name(int src_dir, int dst_dir, const std::string& name, const struct stat& st,
                          const std::string& rel) {
        const char* n = name.c_str();
        if (::fchownat(dst_dir, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("chown " + where(rel));
        // l*xattr through /proc/self/fd/DIR/NAME: the directory fd is followed, NAME is not.
        std::string src_path = "/proc/self/fd/" + std::to_string(src_dir) + "/" + name;
        std::string dst_path = "/proc/self/fd/" + std::to_string(dst_dir) + "/" + name;
        VOLT_TRY(copy_xattrs_path(src_path, dst_path, rel));
        if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, n, st.st_mode & 07777, 0) < 0)
            return Error::from_errno("chmod " + where(rel));
        timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(dst_dir, n, times, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("set times of " + where(rel));
        return {};
    }

    template <class List, class Get, class Set>
    Status copy_xattrs(List list, Get get, Set set, const std::string& rel) {
        ssize_t size = list(nullptr, 0);
        if (size < 0) {
            if (errno == ENOTSUP)
                return {};
            return Error::from_errno("list xattrs of " + where(rel));
        }
        if (size == 0)
            return {};
        std::vector<char> names(static_cast<size_t>(size));
        size = list(names.data(), names.size());
        if (size < 0)
            return Error::from_errno("list xattrs of " + where(rel));
        std::vector<char> value;
        for (ssize_t off = 0; off < size;) {
            const char* key = names.data() + off;
            off += static_cast<ssize_t>(std::strlen(key)) + 1;
            ssize_t vlen = get(key, nullptr, 0);
            if (vlen < 0)
                return Error::from_errno(std::string("get xattr ") + key + " of " + where(rel));
            value.resize(static_cast<size_t>(vlen));
            vlen = get(key, value.data(), value.size());
            if (vlen < 0)
                return Error::from_errno(std::string("get xattr ") + key + " of " + where(rel));
            if (set(key, value.data(), static_cast<size_t>(vlen)) < 0)
                return Error::from_errno(std::string("set xattr ") + key + " on copy of " +
                                         where(rel));
        }
        return {};
    }

    Status copy_xattrs_fd(int src, int dst, const std::string& rel) {
        return copy_xattrs(
            [&](char* b, size_t n) { return ::flistxattr(src, b, n); },
            [&](const char* k, void* v, size_t n) { return ::fgetxattr(src, k, v, n); },
            [&](const char* k, const void* v, size_t n) { return ::fsetxattr(dst, k, v, n, 0); },
            rel);
    }

    Status copy_xattrs_path(const std::string& src, const std::string& dst,
                            const std::string& rel) {
        return copy_xattrs(
            [&](char* b, size_t n) { return ::llistxattr(src.c_str(), b, n); },
            [&](const char* k, void* v, size_t n) { return ::lgetxattr(src.c_str(), k, v, n); },
            [&](const char* k, const void* v, size_t n) {
                return ::lsetxattr(dst.c_str(), k, v, n, 0);
            },
            rel);
    }

    CopyOptions options_;
    std::string src_root_;
    UniqueFd dst_root_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first path of each linked inode
    bool try_clone_ = true;
    CopyStats stats_;
};

}  // namespace

Result<CopyStats> copy_tree(const std::string& src, const std::string& dst, CopyOptions options) {
    return TreeCopier(options).run(src, dst);
}

}  // namespace volt::rootfs
