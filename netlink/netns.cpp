#include "netlink/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

namespace volt::netlink {

Result<NetnsGuard> NetnsGuard::enter(int netns_fd) {
    VOLT_TRY_ASSIGN(UniqueFd original, open_current_netns());
    if (::setns(netns_fd, CLONE_NEWNET) < 0)
        return Error::from_errno("entering network namespace");
    return NetnsGuard(std::move(original));
}

NetnsGuard::~NetnsGuard() {
    // Failing to return would leave the thread in the container's namespace; nothing sane can
    // continue after that.
    if (original_ && ::setns(original_.get(), CLONE_NEWNET) < 0)
        ::abort();
}

Result<UniqueFd> open_current_netns() {
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open /proc/thread-self/ns/net");
    return UniqueFd(fd);
}

namespace detail {

Result<UniqueFd> unshare_and_mount(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        return Error::from_errno("creating " + path);
    ::close(fd);
    auto original = open_current_netns();
    if (!original) {
        ::unlink(path.c_str());
        return original;
    }
    if (::unshare(CLONE_NEWNET) < 0) {
        Error err = Error::from_errno("unshare(CLONE_NEWNET)");
        ::unlink(path.c_str());
        return err;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        Error err = Error::from_errno("bind-mounting the network namespace on " + path);
        (void)::setns(original->get(), CLONE_NEWNET);
        ::unlink(path.c_str());
        return err;
    }
    return original;
}

}  // namespace detail

Result<UniqueFd> create_netns(const std::string& path) {
    return create_netns(path, [] { return Status(); });
}

bool is_netns(const std::string& path) {
    struct statfs fs {};
    return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

Status remove_netns(const std::string& path) {
    // Detached: a process that still has the file open keeps the namespace, not the mount.
    if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return Error::from_errno("unmounting " + path);
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("removing " + path);
    return {};
}

}  // namespace volt::netlink
