// Pure validators for names and option values. Each returns a usage error whose message names
// the option and the rejected value, on one line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/plan/spec.hpp"

namespace volt::runtime {

// Container names as every command takes them: 1–64 of [A-Za-z0-9_.-], not starting with '.' or
// '-'. Lenient on purpose, so that containers created by earlier versions can still be listed,
// stopped and deleted.
Status validate_name(std::string_view name);

// Image names (ROOT/images/NAME): the same rules, so that no image name is a path ('/'), hides
// ('.' first, which volt-run's own entries there start with: .NAME.partial, .NAME.json, .lock) or
// holds a control byte; the error says "image name".
Status validate_image_name(std::string_view name);

// A name for a new container (create): also one systemd-nspawn takes as a machine name, which
// boot passes it as. Dot-separated labels of letters, digits and '-', none empty, none starting
// or ending with '-'; so no '_', no "a..b", no trailing '.' or '-'.
Status validate_new_name(std::string_view name);

// A value that ends up in the spec, the unit or the .nspawn file as text: no control characters
// and well-formed UTF-8 (JSON cannot hold anything else, and systemd drops such lines). The
// error names the option and shows the value with the bad bytes escaped.
Status check_text(std::string_view option, std::string_view value);

// "512M", "2G", "1048576": bytes, with an optional binary suffix K, M, G, T (or KiB … TiB, case
// insensitive). Zero and negative sizes are rejected.
Result<std::uint64_t> parse_size(std::string_view option, std::string_view text);
// "1.5" → 1500 (thousandths of a CPU); 0.01 to 1024.
Result<std::uint32_t> parse_cpus(std::string_view option, std::string_view text);
// "0-3,6" → normalized, ascending ranges only.
Result<std::string> parse_cpuset(std::string_view option, std::string_view text);
// An integer in [min, max].
Result<std::uint64_t> parse_uint(std::string_view option, std::string_view text, std::uint64_t min,
                                 std::uint64_t max);
// "[tcp|udp:]HOST:CONTAINER".
Result<PortForward> parse_port(std::string_view text);
// One string of execve's argv or envp is at most MAX_ARG_STRLEN bytes, its NUL included: 32 pages,
// 128 KiB with the 4 KiB pages of x86-64 (more with larger pages). An --env entry reaches nspawn
// as "--setenv=KEY=VALUE", and the command of exec as KEY=VALUE.
inline constexpr std::size_t kMaxEnvEntryBytes = 32 * 4096 - sizeof("--setenv=");
// All --env entries of a container together. execve takes argv and envp up to a quarter of the
// stack limit (2 MiB under the default 8 MiB); the spec holding them is capped at 1 MiB
// (kMaxRecordBytes) and also holds the rest.
inline constexpr std::size_t kMaxEnvTotalBytes = 256 * 1024;
// "KEY=VALUE" with KEY a shell identifier, at most kMaxEnvEntryBytes.
Result<std::string> parse_env(std::string_view option, std::string_view text);
// "HOST:CONTAINER[:ro|:rw]", both absolute, neither with "..", a control character, ':', ',' or
// '\'. The container path is normalized ("//", "/./", a trailing '/'), then refused when it is
// "/" or at or below /proc, /dev or /sys. The host path must exist: it is resolved (realpath) and
// stored canonical, with its kind (directory, file, other). Errors name the volume.
// HOST:CONTAINER[:OPTIONS], OPTIONS a comma-separated list of ro or rw and idmap or noidmap.
// Without either of the last two the bind is id-mapped when the container has a user namespace
// of its own (private_users), so that its files keep their owners inside; idmap without one is
// refused.
Result<Volume> parse_volume(std::string_view text, bool private_users);
// The checks of parse_volume on one path as text (which: "host", "container"), for a volume
// read back from a spec as well; `text` names the volume in the error.
Status check_volume_path(std::string_view option, std::string_view text, std::string_view which,
                         std::string_view path);
// A normalized container path: not "/", not at or below /proc, /dev, /sys.
Status check_volume_target(std::string_view option, std::string_view text, std::string_view target);
// At boot, before anything is built: the stored host path opened without following any symlink
// (openat2 RESOLVE_NO_SYMLINKS) and still of the kind it was at create. A usage error naming the
// volume when it has become a link or changed kind.
Status check_volume_source(const Volume& volume);
// A point in time for `logs --since`, as CLOCK_REALTIME µs: "2026-11-22", "2026-11-22 17:05",
// "2026-11-22T17:05:30" (local time, as journalctl reads them), "@UNIX-SECONDS", "now",
// "today", "yesterday", or a time back from now: "-30s", "-5min", "-2h", "-1d" ("5min ago" too).
// now_usec is the present, given so that the parse is pure.
Result<std::uint64_t> parse_since(std::string_view text, std::uint64_t now_usec);
// A network interface name as the kernel accepts it (1–15 bytes, no '/', ':' or white space).
Status validate_ifname(std::string_view option, std::string_view name);
// "PATH[:ACCESS]" for --device: PATH absolute, an existing char or block device node on the host
// (a symlink names its target's numbers); ACCESS letters of r, w, m (default rwm), stored as
// "rwm" in that order. No white space, control character, '\\', '%' or ',' in PATH.
Result<Device> parse_device(std::string_view text);

}  // namespace volt::runtime
