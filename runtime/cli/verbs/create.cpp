// volt-run create NAME --image IMAGE [OPTIONS]: a container from an image; prints its name.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/log.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/plan/boot_plan.hpp"

namespace volt::cli::verbs {

void add_create(CLI::App& sub, CreateCmd& c) {
    auto& r = c.request;
    sub.add_option("name", r.name, "Container name: letters, digits, '-', '_', '.'")->required();
    sub.add_option("--image", r.image, "Image directory, or a name under ROOT/images")->required();
    add_limit_options(sub, r);
    sub.add_option("--missing-controllers", r.missing_controllers,
                   "refuse (default) or ignore: boot when a limit's cgroup controller is missing")
        ->capture_default_str();
    sub.add_option("--network", r.network, "private, host, none, or a bridge name")
        ->capture_default_str();
    sub.add_option("--dns", r.dns,
                   "Nameserver for the container's resolv.conf (repeatable; default: the "
                   "host's non-loopback ones, else 1.1.1.1 and 1.0.0.1)");
    sub.add_option("--port", r.ports, "Forward [tcp|udp:]HOST:CONTAINER (repeatable)")
        ->allow_extra_args(false);
    sub.add_option("--env", r.env, "KEY=VALUE for the container (repeatable)")
        ->allow_extra_args(false);
    sub.add_option("--volume", r.volumes,
                   "HOST:CONTAINER[:ro|rw][,idmap|noidmap] bind mount, id-mapped by default "
                   "with a user namespace (repeatable)")
        ->allow_extra_args(false);
    sub.add_option("--device", r.devices,
                   "PATH[:rwm] host device node bound into the container and allowed by its "
                   "device policy (repeatable; default access rwm)")
        ->allow_extra_args(false);
    sub.add_option("--seccomp", r.seccomp, "default, strict, unconfined, or a profile file")
        ->capture_default_str();
    sub.add_option("--landlock", r.landlock, "server, desktop, none, or a policy file")
        ->capture_default_str();
    sub.add_option("--seccomp-unknown-syscalls", r.seccomp_unknown,
                   "error or warn: what a syscall name libseccomp does not know is")
        ->capture_default_str();
    sub.add_option("--landlock-mode", r.landlock_mode,
                   "best-effort (enforce what the kernel can, report the level) or require")
        ->capture_default_str();
    // Two flags rather than CLI11's "!--no-private-users", whose help shows a "{false}" marker.
    auto* on = sub.add_flag("--private-users", r.private_users,
                            "Run the container in its own user namespace (the default)");
    sub.add_flag_callback(
           "--no-private-users", [&r] { r.private_users = false; },
           "Share the host's user namespace (the guest's root is the host's root)")
        ->excludes(on);
    sub.add_flag("--read-only", r.read_only, "Mount the root file system read-only");
    sub.add_option("--rootfs", r.rootfs,
                   "copy (the image copied: independent of it) or overlay (the image as a "
                   "read-only lower layer: create in O(1); an image under ROOT/images only)")
        ->capture_default_str();
    sub.add_option("--kernel", r.kernel, "Kernel image to record for the container");
    sub.add_flag("--start", r.start,
                 "Start the container's unit through systemd after create, waiting for READY");
    sub.add_flag("--enable", r.enable,
                 "Enable the unit, so that systemd boots the container with the host");
}

int run_create(const Invocation& inv, const CreateCmd& c) {
    auto spec = runtime::create(inv.paths, c.request);
    if (!spec)
        return fail(spec.error());
    for (const auto& w : runtime::unapplied_options(*spec))
        log::warn("%s", w.c_str());
    std::printf("%s\n", spec->name.c_str());
    return 0;
}

}  // namespace volt::cli::verbs
