#include "runtime/verbs/layers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.hpp"
#include "base/syscalls.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/rootfs/overlay.hpp"
#include "runtime/verbs/image.hpp"

namespace volt::runtime {
namespace {

Result<UniqueFd> open_dir(int at, const std::string& path, const std::string& shown) {
    int fd = ::openat(at, path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + shown);
    return UniqueFd(fd);
}

}  // namespace

Result<UniqueFd> open_lower_image(const Paths& paths, const std::string& image) {
    const std::string below = paths.images() + "/";
    const std::string name =
        image.compare(0, below.size(), below) == 0 ? image.substr(below.size()) : std::string();
    if (name.empty() || name.find('/') != std::string::npos || !validate_image_name(name))
        return Error::usage("--rootfs overlay: image " + image + " is not an image under " +
                            paths.images() + "; import it first (volt-run image import " + image +
                            " NAME)");
    // Checked on the descriptors that are mounted, not on paths: a spec.json or an images
    // directory changed since create (a symlink to /etc, say) is refused here, at every mount.
    VOLT_TRY_ASSIGN(UniqueFd images, open_dir(AT_FDCWD, paths.images(), paths.images()));
    struct stat st;
    if (::fstat(images.get(), &st) < 0)
        return Error::from_errno("stat " + paths.images());
    if (st.st_uid != 0 || (st.st_mode & 077) != 0)
        return Error::usage("--rootfs overlay: " + paths.images() +
                            " must be a directory of root's with mode 0700, so that no other user "
                            "can change an image under its containers");
    VOLT_TRY_ASSIGN_CTX(
        UniqueFd lower,
        sys::openat2(images.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
        "image " + image);
    if (::fstat(lower.get(), &st) < 0)
        return Error::from_errno("stat " + image);
    if (st.st_uid != 0)
        return Error::usage("--rootfs overlay: image " + image +
                            " must be a directory owned by root");
    return lower;
}

Status check_lower_image(const Paths& paths, const std::string& image) {
    VOLT_TRY_ASSIGN(UniqueFd lower, open_lower_image(paths, image));
    return {};
}

namespace {

// An overlay container's layers as fds: the image (open_lower_image), its layers directory, and
// the upper directory in it.
struct Layers {
    std::string path;  // ROOT/containers/.NAME.overlay
    UniqueFd lower, dir, upper;
};

Result<Layers> open_layers(const Paths& paths, const Spec& spec) {
    Layers l;
    l.path = paths.overlay_dir(spec.name);
    VOLT_TRY_ASSIGN(l.lower, open_lower_image(paths, spec.image));
    VOLT_TRY_ASSIGN(l.dir, open_dir(AT_FDCWD, l.path, l.path));
    VOLT_TRY_ASSIGN(l.upper, open_dir(l.dir.get(), "upper", l.path + "/upper"));
    return l;
}

}  // namespace

Result<UniqueFd> mount_container_overlay(const Paths& paths, const Spec& spec) {
    VOLT_TRY_ASSIGN(Layers l, open_layers(paths, spec));
    VOLT_TRY_ASSIGN(UniqueFd work, open_dir(l.dir.get(), "work", l.path + "/work"));
    uid_t shift = 0;
    if (spec.private_users) {
        // The container's id range is the upper root's owner: create chose it, and nspawn
        // re-owns the tree (upper included) if it must pick another.
        struct stat st;
        if (::fstat(l.upper.get(), &st) < 0)
            return Error::from_errno("stat " + l.path + "/upper");
        if (!rootfs::valid_shift(st.st_uid) || st.st_gid != st.st_uid)
            return Error(EINVAL, l.path + "/upper: owned by " + std::to_string(st.st_uid) + ":" +
                                     std::to_string(st.st_gid) +
                                     ", not by the first id of a container's range");
        shift = st.st_uid;
    }
    VOLT_TRY_ASSIGN_CTX(UniqueFd merged,
                        rootfs::mount_overlay(l.lower.get(), l.upper.get(), work.get(), shift),
                        "overlay of " + spec.image + " and " + l.path + "/upper");
    return merged;
}

Result<UniqueFd> mount_container_overlay_readonly(const Paths& paths, const Spec& spec) {
    VOLT_TRY_ASSIGN(Layers l, open_layers(paths, spec));
    VOLT_TRY_ASSIGN_CTX(UniqueFd merged,
                        rootfs::mount_overlay_readonly(l.upper.get(), l.lower.get()),
                        "read-only overlay of " + spec.image + " and " + l.path + "/upper");
    return merged;
}

Result<rootfs::ContainerRoot> open_stopped_root(const Paths& paths, const Spec& spec,
                                                UniqueFd& mount) {
    if (spec.rootfs == RootfsMode::copy)
        return rootfs::ContainerRoot::open(paths.rootfs(spec.name));
    VOLT_TRY_ASSIGN(mount, mount_container_overlay(paths, spec));
    return rootfs::ContainerRoot::of_fd(mount.get(), paths.rootfs(spec.name));
}

}  // namespace volt::runtime
