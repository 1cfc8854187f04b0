#include "runtime/rootfs/rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
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

// ACL_USER and ACL_GROUP entries of a POSIX ACL xattr (linux/posix_acl_xattr.h): a 4-byte
// version, then 8-byte entries {le16 tag, le16 perm, le32 id}.
constexpr std::uint16_t kAclUser = 0x02, kAclGroup = 0x08;

bool is_acl(const char* key) {
    return std::strcmp(key, "system.posix_acl_access") == 0 ||
           std::strcmp(key, "system.posix_acl_default") == 0;
}

std::uint32_t le32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return std::uint32_t(u[0]) | std::uint32_t(u[1]) << 8 | std::uint32_t(u[2]) << 16 |
           std::uint32_t(u[3]) << 24;
}

void put_le32(char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

bool on_kernel_fs(int fd) {
    struct statfs fs;
    if (::fstatfs(fd, &fs) < 0)
        return true;  // unknown: not read
    switch (static_cast<unsigned long>(fs.f_type)) {
        case PROC_SUPER_MAGIC:
        case SYSFS_MAGIC:
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
        case DEBUGFS_MAGIC:
        case TRACEFS_MAGIC:
        case SECURITYFS_MAGIC:
        case BPF_FS_MAGIC:
        case 0x62656570:  // configfs
        case EFIVARFS_MAGIC:
        case PSTOREFS_MAGIC:
        case SELINUX_MAGIC:
        case SMACK_MAGIC:
        case 0x42494e4d:  // binfmt_misc
        case 0x65735543:  // fusectl
            return true;
        default:
            return false;
    }
}

namespace {

class TreeCopier {
  public:
    explicit TreeCopier(const CopyOptions& options = {}) : options_(options) {}

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
        UniqueFd dst_fd(d);
        where_ = src;
        VOLT_TRY(copy_dir(src_fd.get(), dst_fd.get(), ""));
        VOLT_TRY(finish_inode(src_fd.get(), dst_fd.get(), st, ""));
        ++stats_.directories;
        return stats_;
    }

    Result<CopyStats> run_at(int src_dir, const std::string& src_name, int dst_dir,
                             const std::string& dst_name, const std::string& where) {
        where_ = where;
        VOLT_TRY(copy_entry(src_dir, src_name, dst_dir, dst_name, ""));
        return stats_;
    }

  private:
    std::string where(const std::string& rel) const {
        return rel.empty() ? where_ : where_ + "/" + rel;
    }

    Status copy_dir(int src_dir, int dst_dir, const std::string& rel_dir) {
        VOLT_TRY_ASSIGN_CTX(auto names, fs::list_dir(src_dir), "reading " + where(rel_dir));
        for (const auto& name : names) {
            std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
            VOLT_TRY(copy_entry(src_dir, name, dst_dir, name, rel));
        }
        return {};
    }

    // Opens a source file for reading: first an O_PATH handle (opening what another process
    // put in its place, a FIFO or a device node, could block or act on a device), checked to
    // be a regular file, then the inode itself through /proc/self/fd. No fd for a file of the
    // kernel's own file systems when those are skipped.
    Result<UniqueFd> open_source_file(int src_dir, const char* n, struct stat& st,
                                      const std::string& rel) {
        int h = ::openat(src_dir, n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (h < 0)
            return Error::from_errno("open " + where(rel));
        UniqueFd handle(h);
        if (::fstat(h, &st) < 0)
            return Error::from_errno("stat " + where(rel));
        if (!S_ISREG(st.st_mode))
            return Error(EAGAIN, where(rel) + ": changed while it was copied");
        if (options_.skip_kernel_files && on_kernel_fs(h))
            return UniqueFd();  // not opened at all
        std::string link = "/proc/self/fd/" + std::to_string(h);
        int fd = ::open(link.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            return Error::from_errno("open " + where(rel));
        return UniqueFd(fd);
    }

    Status copy_entry(int src_dir, const std::string& src_name, int dst_dir,
                      const std::string& dst_name, const std::string& rel) {
        struct stat st;
        if (::fstatat(src_dir, src_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("stat " + where(rel));
        const char* n = src_name.c_str();
        const char* dn = dst_name.c_str();

        // Device nodes are never copied. nspawn mounts a /dev of its own over the image's, so
        // nodes there are never seen; a node anywhere else is only a way to reach a host device
        // (b 7:0 opens the host's loop0). Counted, for create's warning.
        if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !options_.keep_devices) {
            ++stats_.skipped_devices;
            return {};
        }

        // A second name of an inode already copied: a link to the copy, made through an O_PATH
        // handle of it (a path below the destination could have been swapped for a symlink).
        const bool linked = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
        const auto key = std::make_pair(st.st_dev, st.st_ino);
        if (linked) {
            if (auto it = links_.find(key); it != links_.end()) {
                std::string copy = "/proc/self/fd/" + std::to_string(it->second.get());
                if (::linkat(AT_FDCWD, copy.c_str(), dst_dir, dn, AT_SYMLINK_FOLLOW) < 0)
                    return Error::from_errno("link " + where(rel));
                ++stats_.hardlinks;
                return {};
            }
        }

        if (S_ISDIR(st.st_mode)) {
            int s = ::openat(src_dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s < 0)
                return Error::from_errno("open " + where(rel));
            UniqueFd sfd(s);
            if (::fstat(s, &st) < 0)  // what was opened, if it changed since
                return Error::from_errno("stat " + where(rel));
            if (options_.skip_kernel_files && on_kernel_fs(s)) {
                ++stats_.skipped_kernel;
                return {};
            }
            if (::mkdirat(dst_dir, dn, 0700) < 0)
                return Error::from_errno("mkdir copy of " + where(rel));
            int d = ::openat(dst_dir, dn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (d < 0)
                return Error::from_errno("open copy of " + where(rel));
            UniqueFd dfd(d);
            VOLT_TRY(copy_dir(sfd.get(), dfd.get(), rel));
            // Directory metadata last: creating children would change its timestamps.
            VOLT_TRY(finish_inode(sfd.get(), dfd.get(), st, rel));
            ++stats_.directories;
        } else if (S_ISREG(st.st_mode)) {
            VOLT_TRY_ASSIGN(UniqueFd sfd, open_source_file(src_dir, n, st, rel));
            if (!sfd) {
                ++stats_.skipped_kernel;
                return {};
            }
            int d =
                ::openat(dst_dir, dn, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (d < 0)
                return Error::from_errno("create copy of " + where(rel));
            UniqueFd dfd(d);
            VOLT_TRY(copy_data(sfd.get(), dfd.get(), st, rel));
            VOLT_TRY(finish_inode(sfd.get(), dfd.get(), st, rel));
            ++stats_.files;
            if (linked)
                remember(key, ::fcntl(d, F_DUPFD_CLOEXEC, 0));
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
            if (::symlinkat(target.c_str(), dst_dir, dn) < 0)
                return Error::from_errno("symlink " + where(rel));
            VOLT_TRY(finish_by_name(src_dir, n, dst_dir, dn, st, rel));
            ++stats_.symlinks;
            if (linked)
                remember(key, ::openat(dst_dir, dn, O_PATH | O_NOFOLLOW | O_CLOEXEC));
        } else {
            // Fifos, sockets (and device nodes with keep_devices): recreated, never opened
            // (opening a fifo blocks, opening a device acts on it).
            if (::mknodat(dst_dir, dn, st.st_mode & (S_IFMT | 0777), st.st_rdev) < 0)
                return Error::from_errno("mknod " + where(rel));
            VOLT_TRY(finish_by_name(src_dir, n, dst_dir, dn, st, rel));
            ++(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? stats_.devices : stats_.special);
            if (linked)
                remember(key, ::openat(dst_dir, dn, O_PATH | O_NOFOLLOW | O_CLOEXEC));
        }
        return {};
    }

    // Keeps a handle of the first copy of a linked inode, for its other names. At most
    // kMaxLinks of them are held open (a process has about a thousand fds); names of further
    // inodes become copies of their own.
    void remember(std::pair<dev_t, ino_t> key, int fd) {
        constexpr std::size_t kMaxLinks = 256;
        if (fd < 0)
            return;
        UniqueFd handle(fd);
        if (links_.size() < kMaxLinks)
            links_.emplace(key, std::move(handle));
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
                ssize_t n = try_range_ ? ::copy_file_range(src, &in, dst, &out, left, 0)
                                       : copy_by_read(src, in, dst, out, left);
                if (n < 0) {
                    if (errno == EINTR)
                        continue;
                    // Between file systems of different kinds (ext4 and tmpfs, say) the kernel
                    // refuses: read and write instead, from here on.
                    if (try_range_ && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
                                       errno == ENOSYS)) {
                        try_range_ = false;
                        continue;
                    }
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

    // One pread and pwrite of at most 64 KiB at in and out, moving both; bytes copied, 0 at
    // the end of src, -1 with errno.
    static ssize_t copy_by_read(int src, loff_t& in, int dst, loff_t& out, size_t left) {
        char buf[65536];
        ssize_t n = ::pread(src, buf, std::min(left, sizeof buf), in);
        if (n <= 0)
            return n;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::pwrite(dst, buf + done, static_cast<size_t>(n - done), out + done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            done += w;
        }
        in += n;
        out += n;
        return n;
    }

    // The owner a copy gets, through the options' maps.
    Status owner_of(const struct stat& st, uid_t& uid, gid_t& gid, const std::string& rel) {
        uid = st.st_uid;
        gid = st.st_gid;
        if (options_.uid) {
            VOLT_TRY_ASSIGN_CTX(uid, options_.uid(st.st_uid), where(rel));
        }
        if (options_.gid) {
            VOLT_TRY_ASSIGN_CTX(gid, options_.gid(st.st_gid), where(rel));
        }
        return {};
    }

    mode_t mode_of(const struct stat& st) {
        mode_t mode = st.st_mode & 07777;
        if (options_.drop_privileges && !S_ISDIR(st.st_mode) && (mode & (S_ISUID | S_ISGID))) {
            mode &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
            ++stats_.dropped_privileges;
        }
        return mode;
    }

    // Owner, extended attributes, mode, times, for an inode open on both sides. Order matters:
    // chown clears setuid bits and file capabilities, so it comes first, mode after xattrs.
    Status finish_inode(int src, int dst, const struct stat& st, const std::string& rel) {
        uid_t uid;
        gid_t gid;
        VOLT_TRY(owner_of(st, uid, gid, rel));
        if (::fchown(dst, uid, gid) < 0)
            return Error::from_errno("chown " + where(rel));
        VOLT_TRY(copy_xattrs_fd(src, dst, rel));
        if (::fchmod(dst, mode_of(st)) < 0)
            return Error::from_errno("chmod " + where(rel));
        timespec times[2] = {st.st_atim, st.st_mtim};
        if (::futimens(dst, times) < 0)
            return Error::from_errno("set times of " + where(rel));
        return {};
    }

    // The same for inodes we cannot open (symlinks, fifos, sockets). No call follows a symlink
    // at the name: another process may have put one there.
    Status finish_by_name(int src_dir, const char* n, int dst_dir, const char* dn,
                          const struct stat& st, const std::string& rel) {
        uid_t uid;
        gid_t gid;
        VOLT_TRY(owner_of(st, uid, gid, rel));
        if (::fchownat(dst_dir, dn, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("chown " + where(rel));
        // l*xattr through /proc/self/fd/DIR/NAME: the directory fd is followed, NAME is not.
        std::string src_path = "/proc/self/fd/" + std::to_string(src_dir) + "/" + n;
        std::string dst_path = "/proc/self/fd/" + std::to_string(dst_dir) + "/" + dn;
        VOLT_TRY(copy_xattrs_path(src_path, dst_path, rel));
        if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, dn, mode_of(st), AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("chmod " + where(rel));
        timespec times[2] = {st.st_atim, st.st_mtim};
        if (::utimensat(dst_dir, dn, times, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("set times of " + where(rel));
        return {};
    }

    // A POSIX ACL's named users and groups, through the options' maps.
    Status map_acl(std::vector<char>& value, size_t len, const std::string& rel) {
        if (len < 4 || (len - 4) % 8 != 0)
            return Error(EINVAL, where(rel) + ": a malformed POSIX ACL");
        for (size_t off = 4; off < len; off += 8) {
            auto tag = static_cast<std::uint16_t>(static_cast<unsigned char>(value[off]) |
                                                  static_cast<unsigned char>(value[off + 1]) << 8);
            std::uint32_t id = le32(value.data() + off + 4);
            if (tag == kAclUser && options_.uid) {
                VOLT_TRY_ASSIGN_CTX(id, options_.uid(id), where(rel) + ": its ACL");
            } else if (tag == kAclGroup && options_.gid) {
                VOLT_TRY_ASSIGN_CTX(id, options_.gid(id), where(rel) + ": its ACL");
            }
            put_le32(value.data() + off + 4, id);
        }
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
            if (options_.drop_privileges && std::strcmp(key, "security.capability") == 0) {
                ++stats_.dropped_privileges;
                continue;
            }
            ssize_t vlen = get(key, nullptr, 0);
            if (vlen < 0)
                return Error::from_errno(std::string("get xattr ") + key + " of " + where(rel));
            value.resize(static_cast<size_t>(vlen));
            vlen = get(key, value.data(), value.size());
            if (vlen < 0)
                return Error::from_errno(std::string("get xattr ") + key + " of " + where(rel));
            if ((options_.uid || options_.gid) && is_acl(key))
                VOLT_TRY(map_acl(value, static_cast<size_t>(vlen), rel));
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
    std::string where_;
    // A handle of the first copy of each linked inode, by the source's (dev, ino).
    std::map<std::pair<dev_t, ino_t>, UniqueFd> links_;
    bool try_clone_ = true;
    bool try_range_ = true;
    CopyStats stats_;
};

}  // namespace

Result<CopyStats> copy_tree(const std::string& src, const std::string& dst, CopyOptions options) {
    return TreeCopier(options).run(src, dst);
}

Result<CopyStats> copy_at(int src_dir, const std::string& src_name, int dst_dir,
                          const std::string& dst_name, const CopyOptions& options,
                          const std::string& where) {
    return TreeCopier(options).run_at(src_dir, src_name, dst_dir, dst_name, where);
}

Status remove_at(int dir, const std::string& name) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? Status{} : Error::from_errno("stat " + name);
    if (S_ISDIR(st.st_mode)) {
        int d = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
            return Error::from_errno("open " + name);
        UniqueFd sub(d);
        VOLT_TRY_ASSIGN_CTX(auto names, fs::list_dir(d), "reading " + name);
        for (const auto& child : names)
            VOLT_TRY_CTX(remove_at(d, child), name);
        if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
            return Error::from_errno("remove " + name);
        return {};
    }
    if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT)
        return Error::from_errno("remove " + name);
    return {};
}

}  // namespace volt::rootfs
