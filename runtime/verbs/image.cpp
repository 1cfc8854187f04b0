#include "runtime/verbs/image.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/fault.hpp"
#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/interrupt.hpp"
#include "base/log.hpp"
#include "base/text.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/rootfs/archive.hpp"
#include "runtime/rootfs/container_root.hpp"
#include "runtime/rootfs/rootfs.hpp"
#include "runtime/store/state.hpp"
#include "runtime/verbs/container.hpp"

namespace volt::runtime {
namespace {

// The most of an image's os-release read: the file is the image's, and may be anything.
constexpr std::size_t kMaxOsReleaseBytes = 64 << 10;

std::string image_path(const Paths& paths, const std::string& name) {
    return paths.images() + "/" + name;
}
std::string staging_path(const Paths& paths, const std::string& name) {
    return paths.images() + "/." + name + ".partial";
}
std::string metadata_path(const Paths& paths, const std::string& name) {
    return paths.images() + "/." + name + ".json";
}

// Where rm moves an image before removing it: never NAME, never an import's staging directory.
std::string removing_path(const Paths& paths, const std::string& name) {
    return paths.images() + "/." + name + ".removing";
}

// ROOT/images/.lock, taken exclusive to change which images exist (an import's claim and its
// rename, rm) and shared while an image is read or made (create's copy, an import's work).
// Waits; EINTR (a signal the import catches) waits on.
Result<UniqueFd> lock_images(const Paths& paths, bool shared) {
    std::string path = paths.images() + "/.lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        return Error::from_errno("open lock " + path);
    while (::flock(fd.get(), shared ? LOCK_SH : LOCK_EX) < 0)
        if (errno != EINTR)
            return Error::from_errno("lock " + path);
    return fd;
}

void remove_quietly(const std::string& path) {
    if (auto st = fs::remove_tree(path); !st)
        log::warn("cleaning up: %s", st.error().describe().c_str());
}

// Disk use of the tree below dir: st_blocks of every inode once (hard links counted once),
// walked with directory fds, no symlink followed.
Status disk_use(int dir, std::set<std::pair<dev_t, ino_t>>& seen, std::uint64_t& total) {
    VOLT_TRY_ASSIGN(auto names, fs::list_dir(dir));
    for (const auto& name : names) {
        struct stat st;
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            return Error::from_errno("stat " + name);
        if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.emplace(st.st_dev, st.st_ino).second)
            continue;
        total += static_cast<std::uint64_t>(st.st_blocks) * 512;
        if (S_ISDIR(st.st_mode)) {
            UniqueFd sub(
                ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub)
                return Error::from_errno("open " + name);
            VOLT_TRY(disk_use(sub.get(), seen, total));
        }
    }
    return {};
}

std::optional<std::uint64_t> image_bytes(const std::string& path) {
    UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st;
    if (!root || ::fstat(root.get(), &st) < 0)
        return std::nullopt;
    std::set<std::pair<dev_t, ino_t>> seen;
    std::uint64_t total = static_cast<std::uint64_t>(st.st_blocks) * 512;
    if (!disk_use(root.get(), seen, total))
        return std::nullopt;
    return total;
}

// The image's os-release, read through ContainerRoot: a symlink in it (/etc/os-release ->
// ../usr/lib/os-release) resolves inside the image, never to the host's file.
std::string image_os(const std::string& path) {
    auto root = rootfs::ContainerRoot::open(path);
    if (!root)
        return {};
    for (const char* file : {"/etc/os-release", "/usr/lib/os-release"}) {
        auto where = root->resolve(file);
        if (!where)
            continue;
        if (auto text = root->read_file(*where, kMaxOsReleaseBytes))
            return os_release_name(*text);
    }
    return {};
}

}  // namespace

std::string os_release_name(std::string_view text) {
    std::string pretty, name;
    for (std::string_view line : fs::split(text, '\n')) {
        std::string* into = line.starts_with("PRETTY_NAME=") ? &pretty
                            : line.starts_with("NAME=")      ? &name
                                                             : nullptr;
        if (!into)
            continue;
        std::string_view v = line.substr(line.find('=') + 1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
            v.remove_suffix(1);
        std::string out;
        if (!v.empty() && (v.front() == '"' || v.front() == '\'')) {
            char quote = v.front();
            for (std::size_t i = 1; i < v.size() && v[i] != quote; ++i) {
                if (quote == '"' && v[i] == '\\' && i + 1 < v.size())
                    ++i;
                out += v[i];
            }
        } else {
            out = std::string(v);
        }
        *into = std::move(out);
    }
    return pretty.empty() ? name : pretty;
}

Result<ImportResult> import_image(const Paths& paths, const std::string& source,
                                  const std::string& name) {
    VOLT_TRY(validate_image_name(name));
    if (source.empty())
        return Error::usage("image import: an empty source");
    const std::string shown = text::printable(source);
    struct stat src;
    if (::stat(source.c_str(), &src) < 0)
        return Error(errno, "image import: " + shown, ErrorKind::usage);
    if (!S_ISDIR(src.st_mode) && !S_ISREG(src.st_mode))
        return Error::usage("image import: " + shown + ": neither a file nor a directory");

    VOLT_TRY(fs::mkdir_p(paths.images(), 0700));
    const std::string final_path = image_path(paths, name);
    const std::string staging = staging_path(paths, name);
    const std::string metadata = metadata_path(paths, name);
    const std::string name_lock_path = paths.images() + "/." + name + ".lock";

    // The claim, under the exclusive lock: NAME is free, no other import of it runs (its name
    // lock, held until the end), and what a killed import or rm of it left goes.
    VOLT_TRY_ASSIGN(UniqueFd images_lock, lock_images(paths, false));
    if (fs::exists(final_path))
        return Error::usage("image " + name + " already exists (" + final_path +
                            "); remove it first with `volt-run image rm " + name + "`");
    UniqueFd name_lock(
        ::open(name_lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!name_lock)
        return Error::from_errno("open lock " + name_lock_path);
    if (::flock(name_lock.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return Error::usage("another import of image " + name + " is running");
        return Error::from_errno("lock " + name_lock_path);
    }
    VOLT_TRY(fs::remove_tree(staging));
    VOLT_TRY(fs::remove_tree(removing_path(paths, name)));
    VOLT_TRY(fs::remove_tree(metadata));
    // The work itself under a shared hold: other imports and creates go on, rm waits.
    images_lock.reset();
    VOLT_TRY_ASSIGN(images_lock, lock_images(paths, true));

    InterruptGuard interrupts;
    auto fail = [&](Error e) {
        images_lock.reset();
        remove_quietly(staging);
        ::unlink(metadata.c_str());
        // The name lock file goes under the exclusive lock, which every claim takes first: no
        // claimer can hold it open then.
        if (auto exclusive = lock_images(paths, false))
            ::unlink(name_lock_path.c_str());
        return std::move(e).context("importing " + shown + " as image " + name);
    };
    ImportResult result;
    result.path = final_path;
    // Fault points (base/fault.hpp), for the tests of a killed or interrupted import.
    if (auto st = fault::at(paths.fault, "image-import:extract"); !st)
        return fail(std::move(st).error());
    if (S_ISDIR(src.st_mode)) {
        log::info("copying %s to %s", shown.c_str(), staging.c_str());
        rootfs::CopyOptions keep;
        keep.keep_devices = true;
        auto copied = rootfs::copy_tree(source, staging, keep);
        if (!copied)
            return fail(std::move(copied).error());
        result.files = copied->files + copied->symlinks + copied->special;
        result.directories = copied->directories;
        result.devices = copied->devices;
    } else {
        if (::mkdir(staging.c_str(), 0700) < 0)
            return fail(Error::from_errno("mkdir " + staging));
        log::info("extracting %s to %s", shown.c_str(), staging.c_str());
        auto extracted = rootfs::extract_archive(source, staging, InterruptGuard::flag());
        if (!extracted)
            return fail(std::move(extracted).error());
        result.files = extracted->files + extracted->symlinks + extracted->fifos;
        result.directories = extracted->directories;
        result.devices = extracted->devices;
        result.skipped_acls = extracted->skipped_acls;
    }
    nlohmann::json meta = {{"created", utc_now()},
                           {"source", text::printable(fs::absolute(source))}};
    if (auto st = fs::write_file_atomic(metadata, meta.dump(2) + "\n", 0600); !st)
        return fail(std::move(st).error());
    if (auto st = fault::at(paths.fault, "image-import:rename"); !st)
        return fail(std::move(st).error());
    images_lock.reset();
    auto exclusive = lock_images(paths, false);
    if (!exclusive)
        return fail(std::move(exclusive).error());
    images_lock = std::move(exclusive).value();
    if (InterruptGuard::signal())  // a directory copy does not stop half-way: it ends here
        return fail(Error(EINTR, "interrupted"));
    // NAME appears complete or not at all; RENAME_NOREPLACE: never over anything.
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) < 0)
        return fail(Error::from_errno("rename " + staging + " to " + final_path));
    ::unlink(name_lock_path.c_str());
    struct stat images;
    if (result.devices > 0 && ::stat(paths.images().c_str(), &images) == 0 &&
        (images.st_mode & 0077))
        log::warn("image %s holds %llu device node%s, and %s is open to other users", name.c_str(),
                  static_cast<unsigned long long>(result.devices), result.devices == 1 ? "" : "s",
                  paths.images().c_str());
    return result;
}

Result<std::vector<ImageInfo>> list_images(const Paths& paths) {
    std::vector<ImageInfo> out;
    auto names = fs::list_dir(paths.images());
    if (!names) {
        if (names.error().code() == ENOENT)
            return out;
        return std::move(names).error();
    }
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
        if (name.starts_with('.'))
            continue;  // volt-run's own (see image.hpp)
        std::string path = image_path(paths, name);
        if (!fs::is_directory(path))
            continue;
        ImageInfo info{.name = name,
                       .path = path,
                       .bytes = image_bytes(path),
                       .os = image_os(path),
                       .created = {},
                       .source = {}};
        if (validate_image_name(name)) {
            // A damaged or planted record only loses these two facts.
            if (auto text = fs::read_record(metadata_path(paths, name), kMaxRecordBytes)) {
                auto j = nlohmann::json::parse(*text, nullptr, false);
                if (j.is_object()) {
                    if (auto c = j.find("created");
                        c != j.end() && c->is_string() && parse_utc(c->get<std::string>()))
                        info.created = c->get<std::string>();
                    if (auto s = j.find("source"); s != j.end() && s->is_string())
                        info.source = text::printable(s->get<std::string>());
                }
            }
        }
        out.push_back(std::move(info));
    }
    return out;
}

Result<UniqueFd> hold_image(const Paths& paths, const std::string& image) {
    const std::string below = paths.images() + "/";
    if (image.compare(0, below.size(), below) != 0)
        return UniqueFd();
    return lock_images(paths, true);
}

Result<std::vector<std::string>> containers_using_image(const Paths& paths,
                                                        const std::string& name) {
    VOLT_TRY_ASSIGN(auto all, list(paths));
    const std::string path = image_path(paths, name);
    std::vector<std::string> users;
    for (const auto& c : all)
        if (c.broken.empty() && c.spec.image == path)
            users.push_back(c.spec.name);
    return users;
}

namespace {

// The overlay containers among users: those whose lower layer the image is.
Result<std::vector<std::string>> layered_on(const Paths& paths,
                                            const std::vector<std::string>& users) {
    std::vector<std::string> layered;
    VOLT_TRY_ASSIGN(auto all, list(paths));
    for (const auto& c : all) {
        // A container whose spec cannot be read may still be layered on this image: its layers
        // tell that it is an overlay, not on what. Removing the image could lose it.
        if (!c.broken.empty() && fs::exists(paths.overlay_dir(c.spec.name)))
            return Error::usage("container " + c.spec.name +
                                " has overlay layers but cannot be read (" + c.broken +
                                "), so this image may be its lower layer; repair it or "
                                "delete --force it first");
        if (c.broken.empty() && is_lower_layer(c.spec.rootfs) &&
            std::find(users.begin(), users.end(), c.spec.name) != users.end())
            layered.push_back(c.spec.name);
    }
    return layered;
}

}  // namespace

Result<std::vector<std::string>> remove_image(const Paths& paths, const std::string& name) {
    VOLT_TRY(validate_image_name(name));
    const std::string path = image_path(paths, name);
    if (!fs::exists(path))
        return Error::usage("no image " + name + " (" + path + ")");
    VOLT_TRY_ASSIGN(UniqueFd lock, lock_images(paths, false));
    if (!fs::exists(path))  // removed while we waited
        return Error::usage("no image " + name + " (" + path + ")");
    VOLT_TRY_ASSIGN(auto users, containers_using_image(paths, name));
    VOLT_TRY_ASSIGN(auto layered, layered_on(paths, users));
    std::string listed;
    for (const auto& u : layered)
        listed.append(listed.empty() ? "" : ", ").append(u);
    if (!layered.empty())
        return Error::usage("image " + name + " is the lower layer of overlay container" +
                            (layered.size() == 1 ? " " : "s ") + listed + "; delete " +
                            (layered.size() == 1 ? "it" : "them") + " first");
    // Out of the way first, in one rename: a removal that fails half-way leaves no half image
    // under NAME for create to copy, only .NAME.removing, which the next rm or import of NAME
    // removes.
    const std::string removing = removing_path(paths, name);
    VOLT_TRY(fs::remove_tree(removing));
    if (::rename(path.c_str(), removing.c_str()) < 0)
        return Error::from_errno("rename " + path + " to " + removing);
    VOLT_TRY(fs::remove_tree(metadata_path(paths, name)));
    VOLT_TRY_CTX(fs::remove_tree(removing), "image " + name + " is gone, but removing its files");
    return users;
}

}  // namespace volt::runtime
