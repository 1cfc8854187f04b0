// `cp`: files into and out of a container, in-process.
//
// The container's side is reached only through its root handle (rootfs::ContainerRoot): each
// path the user names is resolved below the root's fd with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS), and from the directory it names on every call is relative to a
// directory fd with O_NOFOLLOW (rootfs::copy_at). A symlink, a ".." chain or a path the guest
// swaps while the copy runs stays inside the container's root.
//
// A running container is reached through its init's root (/proc/LEADER/root): the tree the
// guest sees, with the tmpfs nspawn mounts on /tmp, not the directory on disk. A stopped one
// through ROOT/containers/NAME.
//
// Owners. The copier runs with the host's credentials and gives every copy the owner it
// computes. Through /proc/LEADER/root the kernel shows and takes host ids (nspawn 252 maps the
// root with an idmapped mount, and the tmpfs on /tmp holds host ids), so those are mapped
// through the leader's uid_map and gid_map. A stopped container's files hold on disk the ids of
// container uid 0's range, which starts at the owner of its root directory (0 with the idmapped
// mount, the picked base when nspawn chowned the tree, 0 without a user namespace). Into a
// container a file keeps its numeric ids as the guest sees them (docker cp -a); an id the
// container's namespace has no room for is refused. Out of it, a copy gets the ids the guest
// sees, and the overflow id 65534 for a host id the guest cannot name.
//
// Privileges do not leave a container: setuid and setgid bits of files and file capabilities
// are dropped on the way out. The guest's ids are not the host's, and a setuid-root file that
// the guest's root made would otherwise become a setuid-root file of the host's. Device nodes
// are never copied (as create does not): a node only reaches a host device. Nor is anything of
// the kernel's own file systems copied out (proc, sysfs …): the guest can mount a proc of its
// own over any directory, and read with the host's privileges /proc/kcore is the host's memory.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <limits>

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/syscalls.hpp"
#include "runtime/plan/cp.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/rootfs/rootfs.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/layers.hpp"
#include "runtime/verbs/target.hpp"

namespace volt::runtime {
namespace {

// A container user namespace holds 65536 ids (nspawn's --private-users=pick).
constexpr std::uint32_t kRange = 65536;

struct ContainerSide {
    rootfs::ContainerRoot root;
    IdMap uids, gids;
    // A stopped overlay container's merged tree, mounted detached while the copy runs.
    UniqueFd mount;
};

Result<IdMap> read_id_map(pid_t leader, const char* file) {
    const std::string path = "/proc/" + std::to_string(leader) + "/" + file;
    VOLT_TRY_ASSIGN(std::string text, fs::read_file(path));
    VOLT_TRY_ASSIGN_CTX(IdMap map, parse_id_map(text), path);
    return map;
}

Result<ContainerSide> open_container(const Paths& paths, const std::string& name,
                                     const Spec& spec) {
    VOLT_TRY_ASSIGN(std::optional<Target> target, running_target(paths, name));
    if (target) {
        VOLT_TRY_ASSIGN(rootfs::ContainerRoot root,
                        rootfs::ContainerRoot::of_process(target->leader));
        VOLT_TRY_ASSIGN(IdMap uids, read_id_map(target->leader, "uid_map"));
        VOLT_TRY_ASSIGN(IdMap gids, read_id_map(target->leader, "gid_map"));
        // The root and maps were opened by pid: the pidfd proves they are still the leader's.
        if (!proc::pidfd_alive(target->leader_fd.get()))
            return Error(ESRCH, "container " + name + " is stopping");
        return ContainerSide{std::move(root), std::move(uids), std::move(gids), {}};
    }
    UniqueFd mount;
    VOLT_TRY_ASSIGN(rootfs::ContainerRoot root, open_stopped_root(paths, spec, mount));
    if (!spec.private_users)
        return ContainerSide{std::move(root), IdMap::identity(), IdMap::identity(),
                             std::move(mount)};
    struct stat st;
    if (::fstat(root.fd(), &st) < 0)
        return Error::from_errno("stat " + root.where());
    if (st.st_uid > std::numeric_limits<std::uint32_t>::max() - kRange ||
        st.st_gid > std::numeric_limits<std::uint32_t>::max() - kRange)
        return Error(EOVERFLOW, root.where() + ": owned by " + std::to_string(st.st_uid) + ":" +
                                    std::to_string(st.st_gid) + ", no id range of a container");
    return ContainerSide{std::move(root), IdMap::shifted(st.st_uid, kRange),
                         IdMap::shifted(st.st_gid, kRange), std::move(mount)};
}

// An operand as a directory fd and a name in it.
struct Place {
    UniqueFd dir;
    std::string name;
    std::string shown;  // the operand as the user wrote it, for errors
};

Result<UniqueFd> open_on(const ContainerSide* side, const std::string& path, int flags) {
    if (side)
        return side->root.open_path(path, flags);
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(path);
    return UniqueFd(fd);
}

std::string shown_of(const CpOperand& op) {
    return op.in_container() ? op.container + ":" + op.path : op.path;
}

Status check_entry_name(const std::string& name, const std::string& shown) {
    if (name.empty() || name == "." || name == "..")
        return Error::usage("cp: " + shown + ": name a file or directory (not /, . or ..)");
    return {};
}

// The directory a path's last component is in; `missing` says why when there is none (a usage
// error: the user named it).
Result<UniqueFd> open_parent(const ContainerSide* side, const std::string& path,
                             const std::string& shown, const char* missing) {
    auto dir = open_on(side, parent_of(path), O_PATH | O_DIRECTORY);
    if (!dir && (dir.error().code() == ENOENT || dir.error().code() == ENOTDIR))
        return Error::usage("cp: " + shown + ": " + missing);
    return dir;
}

// The source: its directory, opened (symlinks on the way followed, inside the container's
// root on its side), and its last component, which is never followed.
Result<Place> source_place(const ContainerSide* side, const CpOperand& op, struct stat& st) {
    Place p{{}, last_component(op.path), shown_of(op)};
    VOLT_TRY(check_entry_name(p.name, p.shown));
    VOLT_TRY_ASSIGN(p.dir, open_parent(side, op.path, p.shown, "no such file or directory"));
    if (::fstatat(p.dir.get(), p.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return Error::usage("cp: " + p.shown + ": no such file or directory");
        return Error::from_errno("stat " + p.shown);
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
        return Error::usage("cp: " + p.shown + ": a device node (cp copies no device nodes)");
    return p;
}

// The destination, as docker cp has it: an existing directory receives the source under the
// source's name; anything else is the name of the copy, in a directory that must exist.
Result<Place> destination_place(const ContainerSide* side, const CpOperand& op,
                                const std::string& src_name) {
    Place p{{}, {}, shown_of(op)};
    const bool wants_dir = op.path.ends_with('/') || op.path.ends_with("/.");
    auto target = open_on(side, op.path, O_PATH);
    if (target) {
        struct stat st;
        if (::fstat(target->get(), &st) < 0)
            return Error::from_errno("stat " + p.shown);
        if (S_ISDIR(st.st_mode)) {
            p.dir = std::move(target).value();
            p.name = src_name;
            return p;
        }
        if (wants_dir)
            return Error::usage("cp: " + p.shown + ": not a directory");
    } else if (target.error().code() == ENOTDIR && wants_dir) {
        return Error::usage("cp: " + p.shown + ": not a directory");
    } else if (target.error().code() != ENOENT) {
        return Error(target.error().code(), "cp: " + p.shown);
    } else if (wants_dir) {
        return Error::usage("cp: " + p.shown + ": no such directory");
    }
    p.name = last_component(op.path);
    VOLT_TRY(check_entry_name(p.name, p.shown));
    VOLT_TRY_ASSIGN(p.dir, open_parent(side, op.path, p.shown, "its directory does not exist"));
    return p;
}

// Whether the directory dir is the directory (dev, ino) or below it: walked up through "..",
// which stops at our root, or at the root of the mount namespace dir is in.
Result<bool> is_within(int dir, dev_t dev, ino_t ino) {
    UniqueFd at(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
    if (!at)
        return Error::from_errno("dup");
    for (int depth = 0; depth < 4096; ++depth) {
        struct stat here;
        if (::fstat(at.get(), &here) < 0)
            return Error::from_errno("stat");
        if (here.st_dev == dev && here.st_ino == ino)
            return true;
        int up = ::openat(at.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0)
            return Error::from_errno("open ..");
        UniqueFd parent(up);
        struct stat above;
        if (::fstat(up, &above) < 0)
            return Error::from_errno("stat");
        if (above.st_dev == here.st_dev && above.st_ino == here.st_ino)
            return false;  // a root
        at = std::move(parent);
    }
    return false;
}

Result<std::string> temporary_name() {
    unsigned char bytes[8];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        return Error::from_errno("getrandom");
    std::string name = ".volt-cp-";
    for (unsigned char b : bytes) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", b);
        name += hex;
    }
    return name;
}

}  // namespace

Status copy(const Paths& paths, const CpOperand& src, const CpOperand& dst) {
    VOLT_TRY(check_cp_operands(src, dst));
    const bool into = dst.in_container();
    const std::string& name = into ? dst.container : src.container;
    // The lock keeps delete (and a boot's set-up) from changing the root while we copy.
    VOLT_TRY_ASSIGN(Locked locked, lock_and_load(paths, name));
    VOLT_TRY_ASSIGN(ContainerSide side, open_container(paths, name, locked.spec));

    struct stat st;
    VOLT_TRY_ASSIGN(Place from, source_place(into ? nullptr : &side, src, st));
    VOLT_TRY_ASSIGN(Place to, destination_place(into ? &side : nullptr, dst, from.name));

    // What stands at the copy's name is replaced, never written through: a file by a rename
    // over it, and a directory never (cp does not merge trees).
    struct stat old;
    if (::fstatat(to.dir.get(), to.name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISDIR(old.st_mode))
            return Error::usage("cp: " + to.shown + ": " + to.name +
                                " exists as a directory (cp does not merge directories)");
        if (S_ISDIR(st.st_mode))
            return Error::usage("cp: " + to.shown + ": " + to.name +
                                " exists; cannot replace it with a directory");
    } else if (errno != ENOENT) {
        return Error::from_errno("stat " + to.shown);
    }

    // A directory copied into itself would copy its own copy again, level after level.
    if (S_ISDIR(st.st_mode)) {
        VOLT_TRY_ASSIGN_CTX(bool within, is_within(to.dir.get(), st.st_dev, st.st_ino),
                            "cp: " + to.shown);
        if (within)
            return Error::usage("cp: " + to.shown + " is inside " + from.shown +
                                ": a directory cannot be copied into itself");
        // Into a running container the walk up stops at the guest's root, which may lie
        // below the source on the host's disk.
        // An overlay container's writes land in its upper directory, which is on the disk.
        for (const std::string& on_disk :
             {paths.rootfs(name), paths.overlay_dir(name) + "/upper"}) {
            if (!into)
                break;
            auto disk = rootfs::ContainerRoot::open(on_disk);
            if (disk) {
                VOLT_TRY_ASSIGN_CTX(bool holds, is_within(disk->fd(), st.st_dev, st.st_ino),
                                    "cp: " + from.shown);
                if (holds)
                    return Error::usage("cp: " + from.shown + " holds the root of container " +
                                        name + ": a directory cannot be copied into itself");
            }
        }
    }

    rootfs::CopyOptions options;
    if (into) {
        const IdMap &uids = side.uids, &gids = side.gids;
        options.uid = [&uids](uid_t id) -> Result<uid_t> {
            if (auto host = uids.to_host(id))
                return static_cast<uid_t>(*host);
            return Error(0, "owner uid " + std::to_string(id) +
                                " has no id in the container's user namespace");
        };
        options.gid = [&gids](gid_t id) -> Result<gid_t> {
            if (auto host = gids.to_host(id))
                return static_cast<gid_t>(*host);
            return Error(0, "group gid " + std::to_string(id) +
                                " has no id in the container's user namespace");
        };
    } else {
        const IdMap &uids = side.uids, &gids = side.gids;
        options.uid = [&uids](uid_t id) -> Result<uid_t> {
            return static_cast<uid_t>(uids.to_container(id).value_or(kOverflowId));
        };
        options.gid = [&gids](gid_t id) -> Result<gid_t> {
            return static_cast<gid_t>(gids.to_container(id).value_or(kOverflowId));
        };
        options.drop_privileges = true;
        // The guest may mount a proc or sysfs of its own anywhere; read as the host's root
        // their files are the host's (/proc/kcore), so none is read.
        options.skip_kernel_files = true;
        if (rootfs::on_kernel_fs(from.dir.get()))
            return Error::usage("cp: " + from.shown + ": on a kernel file system (/proc, /sys " +
                                "and the like), which cp does not copy out");
    }

    // Into a temporary name beside the copy's, renamed into place once complete; on any error
    // what was made is removed.
    VOLT_TRY_ASSIGN(const std::string tmp, temporary_name());
    auto stats = rootfs::copy_at(from.dir.get(), from.name, to.dir.get(), tmp, options, from.shown);
    if (!stats) {
        (void)rootfs::remove_at(to.dir.get(), tmp);
        Error e = std::move(stats).error();
        // An idmapped root whose map has no id for the host's root (nspawn 252's maps it to
        // 2147483646, which the guest sees as nobody) refuses what it would have to own.
        if (e.code() == EOVERFLOW && into)
            return std::move(e).context("cp (the container's root has no id for the host's root)");
        return std::move(e).context("cp");
    }
    if (struct stat made; ::fstatat(to.dir.get(), tmp.c_str(), &made, AT_SYMLINK_NOFOLLOW) < 0)
        return Error::usage("cp: " + from.shown + ": on a kernel file system (/proc, /sys and " +
                            "the like), which cp does not copy out");
    const unsigned flags = S_ISDIR(st.st_mode) ? RENAME_NOREPLACE : 0;
    if (::renameat2(to.dir.get(), tmp.c_str(), to.dir.get(), to.name.c_str(), flags) < 0) {
        Error e = Error::from_errno("cp: renaming the copy to " + to.shown);
        (void)rootfs::remove_at(to.dir.get(), tmp);
        return e;
    }
    if (stats->skipped_devices > 0)
        log::warn("cp: %llu device nodes in %s not copied",
                  static_cast<unsigned long long>(stats->skipped_devices), from.shown.c_str());
    if (stats->skipped_kernel > 0)
        log::warn("cp: %llu directories or files of /proc, /sys and the like in %s not copied",
                  static_cast<unsigned long long>(stats->skipped_kernel), from.shown.c_str());
    if (stats->dropped_privileges > 0)
        log::warn("cp: setuid/setgid bits or file capabilities of %llu files from %s left out",
                  static_cast<unsigned long long>(stats->dropped_privileges), from.shown.c_str());
    return {};
}

}  // namespace volt::runtime
