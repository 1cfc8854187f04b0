// One handle for a container's root file system: the only way volt-run reads or writes a file
// whose path the guest controls (resolv.conf, machine-id, the init, Landlock rule paths).
//
// Every path is resolved below the root's fd with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS): a symlink or ".." in the guest's tree stays inside it, and
// /proc/…/fd-style links are refused. Files are opened O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
// checked with fstat (a FIFO, socket or device where a file is meant is an error, never a hang)
// and read with a size cap.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::rootfs {

class ContainerRoot {
  public:
    // A root file system directory on the host (ROOT/containers/NAME).
    static Result<ContainerRoot> open(const std::string& rootfs);
    // The root a running process sees (/proc/PID/root): in a container's mount namespace.
    static Result<ContainerRoot> of_process(pid_t pid);
    // The directory fd refers to (a detached overlay mount, say), through a duplicate of fd.
    static Result<ContainerRoot> of_fd(int fd, std::string where);

    int fd() const { return fd_.get(); }
    const std::string& where() const { return where_; }

    // Opens an absolute path of the container below the root, with open(2) flags (O_PATH for a
    // handle). O_CLOEXEC is always added, and O_NONBLOCK unless O_PATH; ENOENT when it does not
    // exist.
    Result<UniqueFd> open_path(std::string_view path, int flags) const;

    // The contents of a regular file, at most max_bytes (EFBIG beyond). The last component is
    // not followed (ELOOP for a symlink); anything but a regular file is EINVAL.
    Result<std::string> read_file(std::string_view path, std::size_t max_bytes) const;

    // Replaces dir/name with content, owned like dir, with mode; an identical file is left alone
    // (a rename over it makes ext4 flush it, about 0.5 ms). Whatever stood at name (a symlink,
    // a FIFO) is replaced, never followed or opened for writing.
    Status write_file(std::string_view dir, const std::string& name, std::string_view content,
                      mode_t mode) const;

    // Where path leads inside the container (symlinks followed, within the root), as the
    // container sees it: "/usr/bin/busybox" for "/sbin/init" on a busybox image.
    Result<std::string> resolve(std::string_view path) const;

  private:
    ContainerRoot(UniqueFd fd, std::string where) : fd_(std::move(fd)), where_(std::move(where)) {}
    UniqueFd fd_;
    std::string where_;  // for errors
};

}  // namespace volt::rootfs
