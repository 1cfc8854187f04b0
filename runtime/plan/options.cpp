#include "runtime/plan/options.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <vector>

#include "base/fs.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "cgroup/devices.hpp"

namespace volt::runtime {
namespace {

Error bad(std::string_view option, std::string_view text, std::string_view why) {
    return Error::usage(std::string(option) + ": invalid value '" + text::printable(text) +
                        "': " + std::string(why));
}

bool all_digits(std::string_view s) {
    if (s.empty())
        return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    return true;
}

// Parses a run of decimal digits; false on overflow.
bool to_u64(std::string_view s, std::uint64_t& out) {
    out = 0;
    for (char c : s) {
        auto d = static_cast<std::uint64_t>(c - '0');
        if (out > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
            return false;
        out = out * 10 + d;
    }
    return true;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool has_dotdot(std::string_view path) {
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string_view::npos)
            next = path.size();
        if (path.substr(pos, next - pos) == "..")
            return true;
        pos = next + 1;
    }
    return false;
}

}  // namespace

namespace {

// The rules of validate_name, for a name of `kind` ("container", "image").
Status validate_name_of(const char* kind, std::string_view name) {
    auto fail = [&](const char* why) {
        return Error::usage(std::string("invalid ") + kind + " name '" + text::printable(name) +
                            "': " + why);
    };
    if (name.empty())
        return fail("it is empty");
    if (name.size() > 64)
        return fail("longer than 64 characters");
    if (name[0] == '.' || name[0] == '-')
        return fail("it must not start with '.' or '-'");
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return fail("only letters, digits, '-', '_' and '.' are allowed");
    }
    return {};
}

}  // namespace

Status validate_name(std::string_view name) {
    return validate_name_of("container", name);
}

Status validate_image_name(std::string_view name) {
    return validate_name_of("image", name);
}

Status validate_new_name(std::string_view name) {
    VOLT_TRY(validate_name(name));
    auto fail = [&](const char* why) {
        return Error::usage("invalid container name '" + text::printable(name) + "': " + why +
                            " (it is the machine name systemd-nspawn boots it as)");
    };
    for (std::string_view label : fs::split(name, '.')) {
        if (label.empty())
            return fail("an empty label (two dots, or a dot at the end)");
        if (label.front() == '-' || label.back() == '-')
            return fail("a label starts or ends with '-'");
        for (char c : label)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
                return fail("only letters, digits, '-' and '.' are allowed");
    }
    return {};
}

Result<std::uint64_t> parse_size(std::string_view option, std::string_view text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
        ++digits;
    if (digits == 0)
        return bad(option, text, "expected a size such as 512M or 2G");
    std::string suffix = lower(text.substr(digits));
    unsigned shift = 0;
    if (suffix.empty() || suffix == "b")
        shift = 0;
    else if (suffix == "k" || suffix == "kib")
        shift = 10;
    else if (suffix == "m" || suffix == "mib")
        shift = 20;
    else if (suffix == "g" || suffix == "gib")
        shift = 30;
    else if (suffix == "t" || suffix == "tib")
        shift = 40;
    else
        return bad(
            option, text,
            "unknown unit '" + text::printable(text.substr(digits)) + "' (use K, M, G or T)");
    std::uint64_t n;
    if (!to_u64(text.substr(0, digits), n) || (shift && n > (~std::uint64_t{0} >> shift)))
        return bad(option, text, "too large");
    if (n == 0)
        return bad(option, text, "must be greater than zero");
    return n << shift;
}

Result<std::uint32_t> parse_cpus(std::string_view option, std::string_view text) {
    auto dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    if ((whole.empty() && frac.empty()) || (!whole.empty() && !all_digits(whole)) ||
        (dot != std::string_view::npos && !all_digits(frac)) || frac.size() > 3)
        return bad(option, text, "expected a number of CPUs such as 2 or 1.5 (at most 3 decimals)");
    std::uint64_t w = 0, f = 0;
    if (!to_u64(whole, w) || w > 1024)
        return bad(option, text, "at most 1024 CPUs");
    to_u64(frac, f);
    for (size_t i = frac.size(); i < 3; ++i)
        f *= 10;
    std::uint64_t milli = w * 1000 + f;
    // cpu.max needs a quota of at least 1 ms per 100 ms period.
    if (milli < 10)
        return bad(option, text, "must be at least 0.01");
    return static_cast<std::uint32_t>(milli);
}

Result<std::string> parse_cpuset(std::string_view option, std::string_view text) {
    if (text.empty())
        return bad(option, text, "expected a CPU list such as 0-3,6");
    std::string out;
    long last = -1;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos)
            comma = text.size();
        std::string_view item = text.substr(pos, comma - pos);
        auto dash = item.find('-');
        std::string_view lo_s = item.substr(0, dash);
        std::string_view hi_s = dash == std::string_view::npos ? lo_s : item.substr(dash + 1);
        std::uint64_t lo, hi;
        if (!all_digits(lo_s) || !all_digits(hi_s) || !to_u64(lo_s, lo) || !to_u64(hi_s, hi) ||
            lo > 4095 || hi > 4095)
            return bad(option, text, "expected a CPU list such as 0-3,6");
        if (hi < lo)
            return bad(option, text, "range " + std::string(item) + " is descending");
        if (static_cast<long>(lo) <= last)
            return bad(option, text, "CPUs must be listed in ascending order without overlap");
        last = static_cast<long>(hi);
        if (!out.empty())
            out += ',';
        out += std::to_string(lo);
        if (hi != lo)
            out.append("-").append(std::to_string(hi));
        pos = comma + 1;
    }
    return out;
}

Result<std::uint64_t> parse_uint(std::string_view option, std::string_view text, std::uint64_t min,
                                 std::uint64_t max) {
    std::uint64_t n;
    std::string range = std::to_string(min) + " to " + std::to_string(max);
    if (!all_digits(text) || !to_u64(text, n))
        return bad(option, text, "expected a whole number from " + range);
    if (n < min || n > max)
        return bad(option, text, "out of range " + range);
    return n;
}

Result<std::uint64_t> parse_since(std::string_view text, std::uint64_t now_usec) {
    constexpr std::uint64_t kSecond = 1000000;
    constexpr std::uint64_t kMaxSeconds = 253402300799;  // 9999-12-31 23:59:59 UTC
    const std::string t = lower(text);
    auto invalid = [&] {
        return bad("--since", text,
                   "expected YYYY-MM-DD [HH:MM[:SS]], @UNIX-SECONDS, now, today, yesterday, or "
                   "a time back like -5min");
    };
    auto from_local = [&](std::tm tm) -> Result<std::uint64_t> {
        tm.tm_isdst = -1;
        std::time_t at = std::mktime(&tm);
        if (at < 0)
            return invalid();
        return static_cast<std::uint64_t>(at) * kSecond;
    };
    if (t == "now")
        return now_usec;
    if (t == "today" || t == "yesterday") {
        std::time_t now = static_cast<std::time_t>(now_usec / kSecond);
        std::tm tm{};
        ::localtime_r(&now, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        if (t == "yesterday")
            tm.tm_mday -= 1;  // mktime normalizes the first of a month
        return from_local(tm);
    }
    std::uint64_t n = 0;
    if (t.size() > 1 && t[0] == '@') {
        if (!all_digits(std::string_view(t).substr(1)) ||
            !to_u64(std::string_view(t).substr(1), n) || n > kMaxSeconds)
            return bad("--since", text, "not a time from 1970 to 9999");
        return n * kSecond;
    }
    // A span back from now: "-5min" or "5min ago".
    std::string_view span = t;
    if (span.starts_with('-'))
        span.remove_prefix(1);
    else if (span.ends_with(" ago"))
        span.remove_suffix(4);
    if (span.size() != t.size()) {
        size_t digits = 0;
        while (digits < span.size() && std::isdigit(static_cast<unsigned char>(span[digits])))
            ++digits;
        if (digits == 0 || !to_u64(span.substr(0, digits), n))
            return invalid();
        std::string_view unit = span.substr(digits);
        while (unit.starts_with(' '))
            unit.remove_prefix(1);
        std::uint64_t seconds = 0;
        if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds")
            seconds = 1;
        else if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes")
            seconds = 60;
        else if (unit == "h" || unit == "hour" || unit == "hours")
            seconds = 3600;
        else if (unit == "d" || unit == "day" || unit == "days")
            seconds = 86400;
        else if (unit == "w" || unit == "week" || unit == "weeks")
            seconds = 7 * 86400;
        else
            return invalid();
        if (n > kMaxSeconds / seconds)  // before the epoch, and before n * seconds overflows
            return 0;
        std::uint64_t back = n * seconds * kSecond;
        return back > now_usec ? 0 : now_usec - back;
    }
    // "YYYY-MM-DD", then optionally " HH:MM" or "THH:MM", then optionally ":SS".
    std::tm tm{};
    int consumed = 0;
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) !=
        3)
        return invalid();
    if (static_cast<size_t>(consumed) != s.size()) {
        char sep = s[static_cast<size_t>(consumed)];
        int more = 0;
        const char* rest = s.c_str() + consumed + 1;
        if ((sep != ' ' && sep != 'T') ||
            std::sscanf(rest, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &more) != 2)
            return invalid();
        rest += more;
        if (*rest == ':') {
            if (std::sscanf(rest + 1, "%2d%n", &tm.tm_sec, &more) != 1)
                return invalid();
            rest += 1 + more;
        }
        if (*rest != '\0')
            return invalid();
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 59 || tm.tm_year < 1970)
        return invalid();
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    // mktime reads 2026-02-31 as 2026-03-03, and a local time skipped by a change to summer time
    // as one an hour later: a date or time that does not exist is refused, not moved.
    std::tm back = tm;
    back.tm_isdst = -1;
    if (std::mktime(&back) < 0 || back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon ||
        back.tm_mday != tm.tm_mday || back.tm_hour != tm.tm_hour || back.tm_min != tm.tm_min ||
        back.tm_sec != tm.tm_sec)
        return bad("--since", text, "no such date or time (in local time)");
    return from_local(tm);
}

Result<PortForward> parse_port(std::string_view text) {
    PortForward pf;
    pf.protocol = "tcp";
    std::string_view rest = text;
    auto first = rest.find(':');
    if (first != std::string_view::npos && !all_digits(rest.substr(0, first))) {
        std::string proto = lower(rest.substr(0, first));
        if (proto != "tcp" && proto != "udp")
            return bad("--port", text, "protocol must be tcp or udp");
        pf.protocol = proto;
        rest = rest.substr(first + 1);
    }
    auto colon = rest.find(':');
    if (colon == std::string_view::npos)
        return bad("--port", text, "expected [tcp|udp:]HOST:CONTAINER");
    auto port = [&](std::string_view p, const char* which) -> Result<std::uint16_t> {
        std::uint64_t n;
        if (!all_digits(p) || !to_u64(p, n))
            return bad("--port", text, std::string(which) + " port must be a number");
        if (n < 1 || n > 65535)
            return bad("--port", text,
                       std::string(which) + " port " + std::string(p) + " is out of range 1-65535");
        return static_cast<std::uint16_t>(n);
    };
    auto host = port(rest.substr(0, colon), "host");
    if (!host)
        return std::move(host).error();
    auto cont = port(rest.substr(colon + 1), "container");
    if (!cont)
        return std::move(cont).error();
    pf.host = *host;
    pf.container = *cont;
    return pf;
}

Status check_text(std::string_view option, std::string_view value) {
    if (text::has_control(value))
        return bad(option, value, "control characters are not allowed");
    if (!text::valid_utf8(value))
        return bad(option, value, "not valid UTF-8");
    return {};
}

Result<std::string> parse_env(std::string_view option, std::string_view text) {
    if (text.size() > kMaxEnvEntryBytes)
        return Error::usage(std::string(option) + ": invalid value '" +
                            text::printable(text.substr(0, 32)) + "...' (" +
                            std::to_string(text.size()) + " bytes): longer than " +
                            std::to_string(kMaxEnvEntryBytes) +
                            " bytes, which the kernel passes as one argument (MAX_ARG_STRLEN)");
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
        return bad(option, text, "expected KEY=VALUE");
    std::string_view key = text.substr(0, eq);
    if (key.empty())
        return bad(option, text, "the variable name is empty");
    if (std::isdigit(static_cast<unsigned char>(key[0])))
        return bad(option, text, "the variable name must not start with a digit");
    for (char c : key)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return bad(option, text, "the variable name may hold only letters, digits and '_'");
    // The value goes on a line of the .nspawn file: '\r' ends a line there as '\n' does.
    if (text::has_control(text))
        return bad(option, text, "control characters are not allowed");
    if (!text::valid_utf8(text))
        return bad(option, text, "not valid UTF-8");
    return std::string(text);
}

namespace {

const char* volume_kind(mode_t mode) {
    return S_ISDIR(mode) ? "directory" : S_ISREG(mode) ? "file" : "other";
}

}  // namespace

Status check_volume_path(std::string_view option, std::string_view text, std::string_view which,
                         std::string_view path) {
    if (text::has_control(path))
        return bad(option, text, "control characters are not allowed");
    if (!text::valid_utf8(path))
        return bad(option, text, "not valid UTF-8");
    if (path.empty() || path[0] != '/')
        return bad(option, text, "the " + std::string(which) + " path must be absolute");
    if (has_dotdot(path))
        return bad(option, text, "paths must not contain '..'");
    // nspawn splits --bind= at ':' (and its options at ','), and takes Bind= lines verbatim.
    for (char c : path)
        if (c == ':' || c == ',' || c == '\\')
            return bad(option, text,
                       "the " + std::string(which) + " path holds '" + std::string(1, c) +
                           "', which nspawn would read differently");
    if (path.back() == ' ')
        return bad(option, text, "the " + std::string(which) + " path ends in a space");
    return {};
}

Status check_volume_target(std::string_view option, std::string_view text,
                           std::string_view target) {
    if (target == "/")
        return bad(option, text, "cannot mount over the container's root");
    // nspawn mounts its own /proc, /dev and /sys before the binds: a bind on them or below breaks
    // every boot ("Child died too early"), or hides what the guest needs from the kernel.
    for (std::string_view api : {"/proc", "/dev", "/sys"})
        if (target == api || (target.starts_with(api) && target[api.size()] == '/'))
            return bad(option, text,
                       "cannot mount on " + std::string(api) +
                           (target == api ? "" : " or below it") + ": nspawn mounts it itself");
    return {};
}

Result<Volume> parse_volume(std::string_view text, bool private_users) {
    Volume v;
    v.idmap = private_users;
    std::vector<std::string_view> parts = fs::split(text, ':');
    if (parts.size() == 3) {
        bool mode = false, mapping = false;
        for (std::string_view option : fs::split(parts[2], ',')) {
            bool& seen = option == "ro" || option == "rw" ? mode : mapping;
            if (option == "ro" || option == "rw")
                v.read_only = option == "ro";
            else if (option == "idmap" || option == "noidmap")
                v.idmap = option == "idmap";
            else
                return bad("--volume", text,
                           "unknown option '" + text::printable(option) +
                               "': expected ro or rw, and idmap or noidmap");
            if (seen)
                return bad("--volume", text,
                           "'" + std::string(option) + "' contradicts or repeats an option");
            seen = true;
        }
        if (v.idmap && !private_users && mapping)
            return bad("--volume", text,
                       "idmap maps ids into the container's user namespace, and with "
                       "--no-private-users it has none");
    } else if (parts.size() != 2) {
        return bad("--volume", text, "expected HOST:CONTAINER[:ro|rw][,idmap|noidmap]");
    }
    VOLT_TRY(check_volume_path("--volume", text, "host", parts[0]));
    VOLT_TRY(check_volume_path("--volume", text, "container", parts[1]));
    // Normalized before it is checked: "/./", "//" and a trailing '/' name the same place.
    v.container = fs::absolute(parts[1]);
    VOLT_TRY(check_volume_target("--volume", text, v.container));
    // The host path is resolved now and stored canonical: a symlink in it is followed once, here,
    // and never again (boot refuses a source that has become a link since).
    char* resolved = ::realpath(std::string(parts[0]).c_str(), nullptr);
    if (!resolved)
        return bad("--volume", text,
                   "host path " + text::printable(parts[0]) + ": " + std::strerror(errno));
    v.host = resolved;
    std::free(resolved);
    if (v.host != parts[0])
        VOLT_TRY(check_volume_path("--volume", text, "resolved host", v.host));
    struct stat st;
    if (::stat(v.host.c_str(), &st) < 0)
        return bad("--volume", text, "host path " + v.host + " does not exist");
    v.kind = volume_kind(st.st_mode);
    return v;
}

Status check_volume_source(const Volume& v) {
    const std::string what =
        "--volume " + text::printable(v.host) + ":" + text::printable(v.container);
    auto fd = sys::openat2(AT_FDCWD, v.host.c_str(), O_PATH | O_CLOEXEC, 0,
                           RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (!fd) {
        if (fd.error().code() == ELOOP)
            return Error::usage(what +
                                ": the host path has become a symbolic link (or one of its "
                                "directories has) since create; refusing to follow it");
        return Error(fd.error().code(), what + ": cannot open the host path");
    }
    struct stat st;
    if (::fstat(fd->get(), &st) < 0)
        return Error::from_errno(what + ": fstat");
    if (!v.kind.empty() && volume_kind(st.st_mode) != v.kind)
        return Error::usage(what + ": the host path was a " + v.kind + " at create and is a " +
                            volume_kind(st.st_mode) + " now");
    return {};
}

Status validate_ifname(std::string_view option, std::string_view name) {
    if (name.empty() || name.size() > 15)
        return bad(option, name, "an interface name has 1 to 15 characters");
    if (name == "." || name == "..")
        return bad(option, name, "not an interface name");
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
            !std::isprint(static_cast<unsigned char>(c)))
            return bad(option, name, "an interface name has no '/', ':' or white space");
    return {};
}

Result<Device> parse_device(std::string_view text) {
    std::vector<std::string_view> parts = fs::split(text, ':');
    if (parts.size() > 2)
        return bad("--device", text, "expected PATH[:rwm]");
    Device d;
    if (parts.size() == 2) {
        auto access = cgroup::parse_access(parts[1]);
        if (!access)
            return bad("--device", text, "the access must be letters of rwm");
        d.access = cgroup::access_letters(*access);
    }
    std::string_view path = parts[0];
    if (path.empty() || path[0] != '/')
        return bad("--device", text, "the path must be absolute");
    if (has_dotdot(path))
        return bad("--device", text, "the path must not contain '..'");
    // The path goes into nspawn's --bind= and the unit's DeviceAllow=, which split on white
    // space and take '\\' and '%' as escapes.
    for (char c : path)
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)) || c == '\\' || c == '%' || c == ',')
            return bad("--device", text, "unsupported character in the path");
    d.path = fs::absolute(path);
    auto rule = cgroup::rule_for_node(d.path, cgroup::kDeviceAll);
    if (!rule) {
        if (rule.error().code() == ENODEV)
            return bad("--device", text, d.path + " is not a character or block device");
        return bad("--device", text, "no device node " + d.path + " on this host");
    }
    return d;
}

}  // namespace volt::runtime
