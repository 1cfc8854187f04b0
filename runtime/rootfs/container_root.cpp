#include "runtime/rootfs/container_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.hpp"
#include "base/syscalls.hpp"

namespace volt::rootfs {
namespace {

constexpr std::uint64_t kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// "/etc/resolv.conf" → "etc/resolv.conf": openat2 resolves it against the root either way, but
// the relative form also reads right in errors.
std::string relative(std::string_view path) {
    while (!path.empty() && path.front() == '/')
        path.remove_prefix(1);
    return path.empty() ? std::string(".") : std::string(path);
}

// Opens the file an O_PATH handle (already checked to be a regular file) refers to, through
// /proc/self/fd: the inode itself, whatever has been renamed over its name since.
Result<UniqueFd> reopen(int handle, int flags) {
    std::string link = "/proc/self/fd/" + std::to_string(handle);
    int fd = ::open(link.c_str(), flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("reopening");
    return UniqueFd(fd);
}

}  // namespace

Result<ContainerRoot> ContainerRoot::open(const std::string& rootfs) {
    int fd = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + rootfs);
    return ContainerRoot(UniqueFd(fd), rootfs);
}

Result<ContainerRoot> ContainerRoot::of_process(pid_t pid) {
    std::string root = "/proc/" + std::to_string(pid) + "/root";
    // The one magic link we follow on purpose: it is the process's root directory.
    int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + root);
    return ContainerRoot(UniqueFd(fd), root);
}

Result<ContainerRoot> ContainerRoot::of_fd(int fd, std::string where) {
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0)
        return Error::from_errno("dup " + where);
    return ContainerRoot(UniqueFd(dup), std::move(where));
}

Result<UniqueFd> ContainerRoot::open_path(std::string_view path, int flags) const {
    // openat2 refuses O_NONBLOCK beside O_PATH (which opens nothing that could block).
    int all = flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NONBLOCK);
    auto fd = sys::openat2(fd_.get(), relative(path).c_str(), static_cast<std::uint64_t>(all), 0,
                           kResolve);
    if (!fd)
        return Error(fd.error().code(), where_ + ": " + std::string(path));
    return fd;
}

Result<std::string> ContainerRoot::read_file(std::string_view path, std::size_t max_bytes) const {
    const std::string what = where_ + ": " + std::string(path);
    // A handle first, then the check, then the open: opening a device node the guest planted
    // there (one it was given with --device) could already act on the device.
    VOLT_TRY_ASSIGN(UniqueFd handle, open_path(path, O_PATH | O_NOFOLLOW));
    struct stat st;
    if (::fstat(handle.get(), &st) < 0)
        return Error::from_errno("stat " + what);
    if (!S_ISREG(st.st_mode))
        return Error(EINVAL, what + ": not a regular file");
    VOLT_TRY_ASSIGN_CTX(UniqueFd fd, reopen(handle.get(), O_RDONLY), what);
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return Error(EFBIG, what + ": larger than " + std::to_string(max_bytes) + " bytes");
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read " + what);
        if (n == 0)
            return out;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)  // grew since fstat
            return Error(EFBIG, what + ": larger than " + std::to_string(max_bytes) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
    }
}

Status ContainerRoot::write_file(std::string_view dir, const std::string& name,
                                 std::string_view content, mode_t mode) const {
    const std::string where = where_ + ": " + std::string(dir) + "/" + name;
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        return Error(EINVAL, where + ": not a file name");
    VOLT_TRY_ASSIGN(UniqueFd dir_fd, open_path(dir, O_PATH | O_DIRECTORY));
    struct stat owner;
    if (::fstat(dir_fd.get(), &owner) < 0)
        return Error::from_errno("stat " + where_ + ": " + std::string(dir));
    // Unchanged: leave it. Only a regular file is ever opened (a FIFO would stall us, a device
    // node act on the device); anything else is replaced below.
    if (int old = ::openat(dir_fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC); old >= 0) {
        UniqueFd handle(old);
        struct stat st;
        if (::fstat(old, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size == static_cast<off_t>(content.size()) && (st.st_mode & 07777) == mode &&
            st.st_uid == owner.st_uid && st.st_gid == owner.st_gid) {
            std::string now(content.size(), '\0');
            if (auto existing = reopen(old, O_RDONLY);
                existing &&
                ::pread(existing->get(), now.data(), now.size(), 0) ==
                    static_cast<ssize_t>(now.size()) &&
                now == content)
                return {};
        }
    }
    std::string tmp = "." + name + ".volt-tmp";
    ::unlinkat(dir_fd.get(), tmp.c_str(), 0);  // from an interrupted earlier write
    int fd = ::openat(dir_fd.get(), tmp.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return Error::from_errno("creating " + where);
    UniqueFd file(fd);
    auto fail = [&](Error e) {
        ::unlinkat(dir_fd.get(), tmp.c_str(), 0);
        return e;
    };
    if (::fchown(fd, owner.st_uid, owner.st_gid) < 0 || ::fchmod(fd, mode) < 0)
        return fail(Error::from_errno("chown " + where));
    if (auto st = fs::write_all(fd, content, tmp); !st)
        return fail(std::move(st).error());
    if (::renameat(dir_fd.get(), tmp.c_str(), dir_fd.get(), name.c_str()) < 0)
        return fail(Error::from_errno("rename to " + where));
    return {};
}

Result<std::string> ContainerRoot::resolve(std::string_view path) const {
    VOLT_TRY_ASSIGN(UniqueFd fd, open_path(path, O_PATH));
    // The fd's path as the kernel names it, relative to our root: strip the root's own path.
    char buf[4096];
    std::string link = "/proc/self/fd/" + std::to_string(fd.get());
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n < 0)
        return Error::from_errno("readlink " + link);
    char rbuf[4096];
    std::string rlink = "/proc/self/fd/" + std::to_string(fd_.get());
    ssize_t rn = ::readlink(rlink.c_str(), rbuf, sizeof rbuf - 1);
    if (rn < 0)
        return Error::from_errno("readlink " + rlink);
    std::string full(buf, static_cast<std::size_t>(n));
    std::string root(rbuf, static_cast<std::size_t>(rn));
    if (root == "/")
        return full;
    if (full.compare(0, root.size(), root) == 0 &&
        (full.size() == root.size() || full[root.size()] == '/'))
        return full.size() == root.size() ? std::string("/") : full.substr(root.size());
    return Error(EXDEV, where_ + ": " + std::string(path) + " resolves outside the root");
}

}  // namespace volt::rootfs
