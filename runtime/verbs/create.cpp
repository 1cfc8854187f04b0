#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <set>

#include "base/fault.hpp"
#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/proc.hpp"
#include "base/steps.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/rootfs/overlay.hpp"
#include "runtime/rootfs/rootfs.hpp"
#include "runtime/store/store.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/devices.hpp"
#include "runtime/verbs/host.hpp"
#include "runtime/verbs/image.hpp"
#include "runtime/verbs/layers.hpp"
#include "runtime/verbs/service.hpp"
#include "units/units.hpp"

namespace volt::runtime {
namespace {

void remove_quietly(const std::string& path) {
    auto st = fs::remove_tree(path);
    if (!st)
        log::warn("rollback: %s", st.error().describe().c_str());
}

Status refuse_existing(const std::string& path, const std::string& what) {
    if (fs::exists(path))
        return Error::usage(what + " " + path + " already exists; remove it or pick another name");
    return {};
}

// Tells systemd about the new unit file (a reload), enables it and starts it, as asked. Nothing
// to do on a host without a system bus.
Status register_with_systemd(const Paths& paths, const std::string& name,
                             const CreateRequest& request) {
    auto systemd = connect_if_present(paths);
    if (!systemd)
        return std::move(systemd).error();
    if (!*systemd)
        return {};
    if (request.enable)
        VOLT_TRY((*systemd)->enable(units::service_name(name)));
    VOLT_TRY((*systemd)->reload());
    if (request.start)
        return start(paths, name, true);
    return {};
}

Status probe_overlay_here() {
    if (auto st = rootfs::probe_overlay(); !st)
        return Error::usage(
            "--rootfs overlay: this kernel cannot make an overlay from directory "
            "fds (Linux 6.13): " +
            st.error().describe());
    return {};
}

// The id ranges other containers' roots are owned by: a copy's root after nspawn chowned it, an
// overlay's upper directory. One lstat each, no more.
std::set<uid_t> shifts_in_use(const Paths& paths) {
    std::set<uid_t> taken;
    const std::string dir = paths.root + "/containers";
    if (auto names = fs::list_dir(dir))
        for (const auto& n : *names) {
            const bool layers = n.starts_with(".") && n.ends_with(".overlay");
            struct stat st;
            if (::lstat((dir + "/" + n + (layers ? "/upper" : "")).c_str(), &st) == 0 &&
                S_ISDIR(st.st_mode) && rootfs::valid_shift(st.st_uid))
                taken.insert(st.st_uid);
        }
    return taken;
}

// An overlay container's layers: the empty mount point at staging (renamed into place later),
// layers/upper owned and moded like the image's root (shifted into the container's id range when
// it has a user namespace), layers/work. Mounted once, detached, to find the init and to know
// the kernel takes them before anything else is made.
Result<InitKind> make_layers(const Paths& paths, const Spec& spec) {
    const std::string staging = paths.rootfs_staging(spec.name);
    const std::string layers = paths.overlay_dir(spec.name);
    struct stat st;
    if (::lstat(spec.image.c_str(), &st) < 0)
        return Error::from_errno("stat " + spec.image);
    const uid_t shift =
        spec.private_users ? rootfs::pick_shift(spec.name, shifts_in_use(paths)) : 0;
    if (st.st_uid >= rootfs::kIdRange || st.st_gid >= rootfs::kIdRange)
        return Error::usage("--rootfs overlay: the root of image " + spec.image + " is owned by " +
                            std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) +
                            ", outside a container's 65536 ids");
    const std::string upper = layers + "/upper";
    if (::mkdir(staging.c_str(), 0755) < 0)
        return Error::from_errno("mkdir " + staging);
    if (::mkdir(layers.c_str(), 0700) < 0)
        return Error::from_errno("mkdir " + layers);
    if (::mkdir(upper.c_str(), 0700) < 0)
        return Error::from_errno("mkdir " + upper);
    if (::lchown(upper.c_str(), st.st_uid + shift, st.st_gid + shift) < 0)
        return Error::from_errno("chown " + upper);
    if (::chmod(upper.c_str(), st.st_mode & 07777) < 0)
        return Error::from_errno("chmod " + upper);
    if (::mkdir((layers + "/work").c_str(), 0700) < 0)
        return Error::from_errno("mkdir " + layers + "/work");
    UniqueFd mount;
    VOLT_TRY_ASSIGN(auto root, open_stopped_root(paths, spec, mount));
    return detect_init(root);
}

}  // namespace

Result<std::string> resolve_image(const Paths& paths, const std::string& image) {
    if (image.empty())
        return Error::usage("--image is required");
    // A path (anything with a '/', or an existing directory) is used as is; a bare name is
    // looked up under ROOT/images, as the old backend did.
    if (image.find('/') != std::string::npos || fs::is_directory(image)) {
        if (!fs::is_directory(image))
            return Error::usage("--image: invalid value '" + image + "': not a directory");
        return fs::absolute(image);
    }
    // Never one of volt-run's own entries there (".NAME.partial": half an import).
    if (auto valid = validate_image_name(image); !valid)
        return Error::usage("--image: " + valid.error().message());
    std::string named = paths.images() + "/" + image;
    if (!fs::is_directory(named))
        return Error::usage("--image: invalid value '" + image + "': no directory " + image +
                            " or " + named);
    return named;
}

Result<Spec> create(const Paths& paths, const CreateRequest& request) {
    VOLT_TRY(check_paths(paths));  // they go into the unit's ExecStart=
    CustomFiles custom;
    auto built = build_spec(request, &custom);
    if (!built)
        return std::move(built).error();
    Spec spec = std::move(built).value();
    const std::string& name = spec.name;
    VOLT_TRY(refuse_volumes_in_data_root(paths, spec));
    auto image = resolve_image(paths, request.image);
    if (!image)
        return std::move(image).error();
    spec.image = *image;
    // Checked again once the image is held, in the step that makes the layers.
    if (spec.rootfs == RootfsMode::overlay) {
        VOLT_TRY(probe_overlay_here());
        VOLT_TRY(check_lower_image(paths, spec.image));
    }
    VOLT_TRY(refuse_claimed_ports(paths, spec));
    if ((request.start || request.enable) && !system_bus_present(paths))
        return Error::usage(std::string(request.start ? "--start" : "--enable") +
                            " needs a running systemd, and this host has no system bus; "
                            "boot the container with `volt-run boot --detach " +
                            name + "`");
    auto self = proc::self_exe();
    if (!self)
        return std::move(self).error();
    // The spec is written last, when everything else exists: find out now, before anything is
    // made, that it reads back as it is (build_spec refused bytes that are not UTF-8, which the
    // file would hold as U+FFFD; this catches whatever else it may miss).
    if (auto back = spec_from_json(to_json(spec)); !back || *back != spec)
        return Error(EINVAL, "the spec cannot be stored as given: " +
                                 (back ? std::string("a value does not read back unchanged")
                                       : back.error().describe()));

    // Carried out step by step (base/steps.hpp): a failure at any step undoes the steps before
    // it, and a crash between two leaves what delete --force removes (a config directory
    // without spec.json is a create that never finished).
    // What the undos use is declared before the steps, so that it outlives their rollback.
    const std::string config = paths.config_dir(name);
    std::optional<fs::FileLock> lock;
    UniqueFd image_hold;
    Steps steps(fault::prefixed(paths.fault, "create:"));
    VOLT_TRY(steps.run("directories", [&]() -> Status {
        VOLT_TRY(fs::mkdir_p(paths.root + "/config", 0700));
        return fs::mkdir_p(paths.root + "/containers", 0700);
    }));

    // Claim the name: mkdir is atomic. A directory without spec.json is what a crashed create
    // left; its lock tells whether someone is still at work.
    VOLT_TRY(steps.run(
        "claim",
        [&]() -> Status {
            bool claimed = ::mkdir(config.c_str(), 0700) == 0;
            if (!claimed && errno != EEXIST)
                return Error::from_errno("mkdir " + config);
            auto locked = lock_container(paths, name);
            if (!locked) {
                if (claimed)
                    remove_quietly(config);
                return std::move(locked).error();
            }
            lock.emplace(std::move(locked).value());
            if (fs::exists(paths.spec_file(name))) {
                lock.reset();
                return Error::usage("container " + name + " already exists");
            }
            return {};
        },
        [&] {
            remove_quietly(config);
            lock.reset();
        }));

    std::string rootfs = paths.rootfs(name);
    VOLT_TRY(refuse_existing(rootfs, "root file system"));
    VOLT_TRY(refuse_existing(paths.unit_file(name), "unit file"));
    VOLT_TRY(refuse_existing(paths.nspawn_file(name), "settings file"));
    // What a create or delete of this name killed half-way left, under the lock its writers held.
    for (const auto& file : {paths.unit_file(name), paths.nspawn_file(name), paths.spec_file(name),
                             paths.seccomp_profile(name), paths.landlock_policy(name)})
        VOLT_TRY(fs::remove_temporaries(file));

    std::string staging = paths.rootfs_staging(name);
    const std::string layers = paths.overlay_dir(name);
    if (spec.rootfs == RootfsMode::overlay) {
        // The image is the lower layer from now on: held (rm and an import's rename wait) until
        // the spec is written, after which rm refuses it for this container.
        VOLT_TRY(steps.run(
            "overlay",
            [&]() -> Status {
                VOLT_TRY(fs::remove_tree(staging));  // from a crashed create
                VOLT_TRY(fs::remove_tree(layers));
                VOLT_TRY_ASSIGN(image_hold, hold_image(paths, spec.image));
                VOLT_TRY(check_lower_image(paths, spec.image));
                auto made = make_layers(paths, spec);
                if (!made) {
                    remove_quietly(staging);
                    remove_quietly(layers);
                    return std::move(made).error();
                }
                spec.init = *made;
                spec.created = utc_now();
                return {};
            },
            [staging, layers] {
                remove_quietly(staging);
                remove_quietly(layers);
            }));
    } else {
        VOLT_TRY(steps.run(
            "copy",
            [&]() -> Status {
                VOLT_TRY(fs::remove_tree(staging));  // from a crashed create
                log::info("copying %s to %s", spec.image.c_str(), rootfs.c_str());
                // An image under ROOT/images is not removed or replaced while it is copied.
                VOLT_TRY_ASSIGN(UniqueFd held, hold_image(paths, spec.image));
                auto copied = rootfs::copy_tree(spec.image, staging);
                if (!copied) {  // the undo runs only once the step succeeded: what it copied goes
                                // now
                    remove_quietly(staging);
                    return std::move(copied).error().context("copying image " + spec.image);
                }
                log::debug("copied %llu files, %llu directories, %llu bytes",
                           static_cast<unsigned long long>(copied->files),
                           static_cast<unsigned long long>(copied->directories),
                           static_cast<unsigned long long>(copied->bytes));
                if (copied->skipped_devices > 0)
                    log::warn(
                        "%s: %llu device node%s in image %s not copied (a container gets nspawn's "
                        "/dev)",
                        name.c_str(), static_cast<unsigned long long>(copied->skipped_devices),
                        copied->skipped_devices == 1 ? "" : "s", spec.image.c_str());
                spec.init = detect_init(staging);
                spec.created = utc_now();
                return {};
            },
            [staging] { remove_quietly(staging); }));
    }

    const std::string unit = paths.unit_file(name);
    VOLT_TRY(steps.run(
        "unit",
        [&]() -> Status {
            VOLT_TRY(fs::mkdir_p(paths.unit_dir));
            return fs::write_file_atomic(
                unit,
                units::render_service({name, unit_command(*self, paths), unit_device_allow(spec)}));
        },
        [unit] { ::unlink(unit.c_str()); }));
    const std::string settings = paths.nspawn_file(name);
    VOLT_TRY(steps.run(
        "settings",
        [&]() -> Status {
            VOLT_TRY(fs::mkdir_p(paths.nspawn_dir));
            return fs::write_file_atomic(settings, units::render_nspawn(nspawn_settings(spec)));
        },
        [settings] { ::unlink(settings.c_str()); }));

    // The very texts build_spec checked, not the files read again. In the config directory,
    // which the claim's undo removes.
    if (spec.seccomp.front() == '/')
        VOLT_TRY(steps.run("seccomp profile", [&] {
            return fs::write_file_atomic(paths.seccomp_profile(name), custom.seccomp_profile, 0600);
        }));
    if (spec.landlock.front() == '/')
        VOLT_TRY(steps.run("landlock policy", [&] {
            return fs::write_file_atomic(paths.landlock_policy(name), custom.landlock_policy, 0600);
        }));

    VOLT_TRY(steps.run(
        "rootfs",
        [&]() -> Status {
            if (::rename(staging.c_str(), rootfs.c_str()) < 0)
                return Error::from_errno("rename " + staging + " to " + rootfs);
            return {};
        },
        [rootfs] { remove_quietly(rootfs); }));
    // The commit point: from here on the container exists.
    VOLT_TRY(steps.run(
        "spec", [&] { return fs::write_file_atomic(paths.spec_file(name), to_json(spec), 0600); }));
    steps.commit();
    lock.reset();  // the unit's boot takes it
    VOLT_TRY(fault::at(paths.fault, "create:systemd"));
    VOLT_TRY_CTX(register_with_systemd(paths, name, request),
                 "container " + name + " was created, but");
    return spec;
}

}  // namespace volt::runtime
