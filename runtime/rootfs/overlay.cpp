#include "runtime/rootfs/overlay.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <initializer_list>
#include <utility>

namespace volt::rootfs {
namespace {

// A user namespace whose uid and gid maps are "0 shift 65536", as an fd: what an id-mapped mount
// takes. Made by a child that unshares it and waits to be killed; the fd keeps it alive.
Result<UniqueFd> mapping_namespace(uid_t shift) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0)
        return Error::from_errno("pipe");
    UniqueFd r(ready[0]), w(ready[1]);
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        char ok = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        (void)!::write(w.get(), &ok, 1);
        ::pause();
        ::_exit(0);
    }
    auto reap = [pid] {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    };
    w.reset();
    char ok = 'n';
    if (::read(r.get(), &ok, 1) != 1 || ok != 'y') {
        reap();
        return Error(EPERM, "making a user namespace for the id mapping");
    }
    const std::string proc = "/proc/" + std::to_string(pid) + "/";
    const std::string map = "0 " + std::to_string(shift) + " " + std::to_string(kIdRange) + "\n";
    for (const char* file : {"uid_map", "gid_map"}) {
        int fd = ::open((proc + file).c_str(), O_WRONLY | O_CLOEXEC);
        bool written =
            fd >= 0 && ::write(fd, map.data(), map.size()) == static_cast<ssize_t>(map.size());
        int err = errno;
        if (fd >= 0)
            ::close(fd);
        if (!written) {
            reap();
            return Error(err, "writing " + proc + file);
        }
    }
    int ns = ::open((proc + "ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    int err = errno;
    reap();
    if (ns < 0)
        return Error(err, "open " + proc + "ns/user");
    return UniqueFd(ns);
}

// A detached, id-mapped clone of the directory dir (not of the mounts below it).
Result<UniqueFd> idmapped(int dir, uid_t shift) {
    VOLT_TRY_ASSIGN(UniqueFd ns, mapping_namespace(shift));
    int tree = ::open_tree(dir, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0)
        return Error::from_errno("open_tree");
    UniqueFd owned(tree);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<std::uint64_t>(ns.get());
    if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return Error::from_errno("id-mapping the lower layer");
    return owned;
}

Status set_fd(int fs, const char* key, int fd) {
    if (::fsconfig(fs, FSCONFIG_SET_FD, key, nullptr, fd) < 0)
        return Error::from_errno(std::string("overlay ") + key);
    return {};
}

// A detached overlay of the layers given as fds (key, fd), in order, mounted with attrs.
Result<UniqueFd> make_overlay(std::initializer_list<std::pair<const char*, int>> layers,
                              unsigned attrs) {
    int fs = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return Error::from_errno("fsopen overlay");
    UniqueFd context(fs);
    for (const auto& [key, fd] : layers)
        VOLT_TRY(set_fd(fs, key, fd));
    if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return Error::from_errno("creating the overlay");
    int mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, attrs);
    if (mnt < 0)
        return Error::from_errno("fsmount overlay");
    return UniqueFd(mnt);
}

}  // namespace

bool valid_shift(uid_t shift) {
    return shift >= kShiftMin && shift <= kShiftMax && shift % kIdRange == 0;
}

uid_t pick_shift(std::string_view name, const std::set<uid_t>& taken) {
    // FNV-1a: stable across versions, which std::hash need not be.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : name)
        h = (h ^ c) * 1099511628211ULL;
    const std::uint64_t slots = (kShiftMax - kShiftMin) / kIdRange + 1;
    for (std::uint64_t i = 0; i < 64; ++i) {
        auto shift = static_cast<uid_t>(kShiftMin + ((h + i) % slots) * kIdRange);
        if (taken.count(shift))
            continue;
        std::string lock = "/run/systemd/nspawn-uid/" + std::to_string(shift);
        int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
            return shift;  // no nspawn has held it since /run was last cleared
        struct flock probe {};
        probe.l_type = F_WRLCK;
        probe.l_whence = SEEK_SET;
        bool held = ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
        ::close(fd);
        if (!held)
            return shift;
    }
    return static_cast<uid_t>(kShiftMin + (h % slots) * kIdRange);
}

Result<UniqueFd> mount_overlay(int lower, int upper, int work, uid_t shift) {
    UniqueFd mapped;
    if (shift != 0) {
        VOLT_TRY_ASSIGN(mapped, idmapped(lower, shift));
        lower = mapped.get();
    }
    // nodev: a copy leaves an image's device nodes out, and an overlay shows them, so none of
    // them can be opened (the guest's /dev is nspawn's own mount). Not nosuid: the guest's su
    // and passwd are setuid in its user namespace.
    return make_overlay({{"lowerdir+", lower}, {"upperdir", upper}, {"workdir", work}},
                        MOUNT_ATTR_NODEV);
}

Result<UniqueFd> mount_overlay_readonly(int upper, int lower) {
    return make_overlay(
        {{"lowerdir+", upper}, {"lowerdir+", lower}},
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

Status attach_private(int mount, const std::string& target) {
    if (::unshare(CLONE_NEWNS) < 0)
        return Error::from_errno("unshare(CLONE_NEWNS)");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
        return Error::from_errno("making / a slave mount");
    if (::move_mount(mount, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return Error::from_errno("mounting the overlay on " + target);
    return {};
}

Status probe_overlay() {
    int fs = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return Error::from_errno("fsopen(\"overlay\")");
    UniqueFd context(fs);
    // A layer by fd: refused by kernels before 6.13 (EINVAL) with an fd that is a directory.
    int dir = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return Error::from_errno("open /");
    UniqueFd d(dir);
    return set_fd(fs, "lowerdir+", dir);
}

Status probe_idmap(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + dir);
    UniqueFd d(fd);
    VOLT_TRY_ASSIGN(UniqueFd tree, idmapped(fd, kShiftMin));
    return {};
}

}  // namespace volt::rootfs
