// The container spec: everything `create` was asked, validated once and then immutable. It is
// stored as JSON beside the container and read by every later command; runtime facts (pids,
// cgroup paths) live in State (state.hpp), never here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cgroup/limits.hpp"

namespace volt::runtime {

// The most --port forwards one container takes (see build_spec).
inline constexpr std::size_t kMaxPortForwards = 1024;

enum class NetworkMode { private_net, host, none, bridge };
// What runs as the container's PID 1, detected at create from the image's /sbin/init. It decides
// how nspawn reports readiness and how the guest is asked to halt.
enum class InitKind { systemd, busybox, other };
// How create makes the container's root file system: a copy of the image (independent of it), or
// an overlay with the image as its read-only lower layer and the container's changes in an upper
// directory of its own (create in O(1); the image cannot be removed while the container exists).
enum class RootfsMode { copy, overlay };

struct PortForward {
    std::string protocol;  // "tcp" or "udp"
    std::uint16_t host = 0;
    std::uint16_t container = 0;
    bool operator==(const PortForward&) const = default;
};

struct Volume {
    std::string host;       // canonical host path, resolved at create (no symlink in it)
    std::string container;  // normalized absolute path inside the container
    bool read_only = false;
    std::string kind;  // the host path's at create: "directory", "file", "other"; empty: unknown
    // Bound id-mapped: a file the host's uid N owns shows as N inside (not as nobody).
    bool idmap = false;
    bool operator==(const Volume&) const = default;
};

// A host device node given to the container with --device: bound at the same path inside, and
// allowed by the device policy with `access` (letters of "rwm"). Its numbers are read at each
// boot, so a node that was re-made keeps working.
struct Device {
    std::string path;  // absolute host path of a char or block device node
    std::string access = "rwm";
    bool operator==(const Device&) const = default;
};

// The resource limits of a container are cgroup/'s type: what is validated here is written there.
using Resources = cgroup::Limits;

// Limit options as typed (create and update): validated by parse_resources.
struct ResourceRequest {
    std::string memory, memory_high, memory_swap, cpus, cpuset, cpu_weight, io_weight, pids_max;
};
Result<Resources> parse_resources(const ResourceRequest& request);
// `changes` over `base`: every limit set in changes replaces base's.
Resources merge(Resources base, const Resources& changes);

// best-effort: enforce what the kernel can and report the level; require: refuse to boot or exec
// when the kernel cannot enforce the whole policy.
enum class LandlockMode { best_effort, require };
const char* to_string(LandlockMode mode);
Result<LandlockMode> parse_landlock_mode(const std::string& option, const std::string& value);

struct Spec {
    static constexpr int kVersion = 1;

    std::string name;
    std::string image;    // absolute path of the image the root file system was copied from
    std::string created;  // UTC, RFC 3339
    InitKind init = InitKind::other;

    Resources resources;
    NetworkMode network = NetworkMode::private_net;
    std::string bridge;  // for NetworkMode::bridge
    std::vector<PortForward> ports;
    std::vector<std::string> dns;  // nameservers; empty: decided at boot from the host's
    std::vector<std::string> env;  // "KEY=VALUE", in the order given
    std::vector<Volume> volumes;
    std::vector<Device> devices;      // beyond the default allow-list (cgroup/devices.hpp)
    std::string seccomp = "default";  // default | strict | unconfined | absolute path
    std::string landlock = "server";  // server | desktop | none | absolute path
    LandlockMode landlock_mode = LandlockMode::best_effort;
    bool seccomp_unknown_warn = false;  // unknown syscall names in the profile: warn, not fail
    // A limit whose cgroup controller is missing: boot refuses (false) or boots without it.
    bool missing_controllers_ok = false;
    bool private_users = true;
    bool read_only = false;
    std::string kernel;  // absolute path, or empty
    bool start = false;
    RootfsMode rootfs = RootfsMode::copy;  // absent from older specs: they were all copies

    bool operator==(const Spec&) const = default;
};

// The raw option values of `create`, as the user typed them. Validated by build_spec.
struct CreateRequest : ResourceRequest {
    std::string name;
    std::string image;
    std::string network = "private";
    std::vector<std::string> ports, dns, env, volumes, devices;
    std::string seccomp = "default";
    std::string landlock = "server";
    std::string landlock_mode = "best-effort";
    std::string seccomp_unknown = "error";
    std::string missing_controllers = "refuse";
    bool private_users = true;
    bool read_only = false;
    std::string kernel;
    std::string rootfs = "copy";  // copy | overlay
    bool start = false;
    bool enable = false;  // not in the spec: whether the unit is enabled is systemd's record
};

// Validates every value of the request (each error names the option and the bad value) and
// returns the spec without the fields create fills in later (image path, created, init).
// Checks the existence of host paths given (volumes, kernel, profile files).
// The custom policy and profile files as build_spec read and checked them: what create keeps,
// so that a file changed in between is never stored unchecked.
struct CustomFiles {
    std::string landlock_policy, seccomp_profile;  // empty for builtins
};
Result<Spec> build_spec(const CreateRequest& request, CustomFiles* files = nullptr);

// spec.json's text (spec.cpp maps the members). Never throws: a string that is not UTF-8 (which
// build_spec refuses) is written with U+FFFD in place of its bad bytes.
std::string to_json(const Spec& spec);
// The spec in a spec.json text, of version 1. An error is one line naming the field and its bad
// value: a missing required key, a wrong type, a number out of range, an unknown word where one
// of a few is meant ("network.mode: unknown value 'bogus'; expected one of ..."). Keys added after
// the first release may be absent and keep their defaults.
Result<Spec> spec_from_json(const std::string& text);

const char* to_string(NetworkMode mode);
const char* to_string(InitKind kind);
const char* to_string(RootfsMode mode);
// "tcp:8080:80"
std::string to_string(const PortForward& port);

// The first forward of `mine` whose host port one of `theirs` claims too. Every forward is a DNAT
// of its protocol and host port for any local address (netlink/nft.hpp), so two forwards clash on
// protocol and host port alone, whatever their container ports: nftables takes both rules, and
// the later container's never matches.
std::optional<PortForward> clashing_port(const std::vector<PortForward>& mine,
                                         const std::vector<PortForward>& theirs);
// A usage error for a clash found by clashing_port: "--port tcp:8080:80: host port 8080/tcp is
// forwarded to container web already (how)".
Error port_claimed(const PortForward& port, const std::string& other, const std::string& how);

}  // namespace volt::runtime
