#include "seccomp-profiles/seccomp.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/hash.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "seccomp-profiles/profiles.hpp"  // generated from *.json

namespace volt::seccomp {
namespace {

using nlohmann::json;

// Capability names, index = capability number (linux/capability.h, up to Linux 5.9).
constexpr std::array<const char*, 41> kCaps = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

struct ArchName {
    const char* scmp;  // OCI name
    const char* go;    // Docker's includes/excludes name
    std::uint32_t token;
};
const std::array<ArchName, 6> kArches = {{
    {"SCMP_ARCH_X86_64", "amd64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X86", "x86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X32", "x32", SCMP_ARCH_X32},
    {"SCMP_ARCH_AARCH64", "arm64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_ARM", "arm", SCMP_ARCH_ARM},
    {"SCMP_ARCH_RISCV64", "riscv64", SCMP_ARCH_RISCV64},
}};

const ArchName* arch_by_token(std::uint32_t token) {
    for (const auto& a : kArches)
        if (a.token == token)
            return &a;
    return nullptr;
}

struct ParseError {
    std::string where, what;
};

using hash::fnv1a;
using hash::hex;

Result<std::uint32_t> action_of(const std::string& name, std::uint32_t errno_ret,
                                const std::string& where) {
    if (name == "SCMP_ACT_ALLOW")
        return SCMP_ACT_ALLOW;
    if (name == "SCMP_ACT_ERRNO")
        return SCMP_ACT_ERRNO(errno_ret);
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD")
        return SCMP_ACT_KILL_THREAD;
    if (name == "SCMP_ACT_KILL_PROCESS")
        return SCMP_ACT_KILL_PROCESS;
    if (name == "SCMP_ACT_TRAP")
        return SCMP_ACT_TRAP;
    if (name == "SCMP_ACT_TRACE")
        return SCMP_ACT_TRACE(errno_ret);
    if (name == "SCMP_ACT_LOG")
        return SCMP_ACT_LOG;
    return Error::usage(where + ": unknown or unsupported action '" + name + "'");
}

Result<scmp_compare> operator_of(const std::string& name, const std::string& where) {
    static const std::array<std::pair<const char*, scmp_compare>, 7> ops = {{
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    }};
    for (const auto& [n, op] : ops)
        if (name == n)
            return op;
    return Error::usage(where + ": unknown operator '" + name + "'");
}

// A whole number from 0 to `max`, else "WHERE: VALUE is not WHAT". get<> would wrap a negative,
// cut a fraction, and is undefined for a double beyond the type.
Result<std::uint64_t> number_of(const json& v, std::uint64_t max, const std::string& where,
                                const char* what) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > max)
        return Error::usage(where + ": " +
                            (v.is_number() ? v.dump() : std::string("a ") + v.type_name()) +
                            " is not " + what);
    return v.get<std::uint64_t>();
}

// errnoRet (number) or errno (name: "EPERM"); `fallback` when neither is given.
Result<std::uint32_t> errno_of(const json& j, const char* num_key, const char* name_key,
                               std::uint32_t fallback, const std::string& where) {
    // The kernel makes any larger SECCOMP_RET_ERRNO value MAX_ERRNO (4095).
    constexpr std::uint64_t kMaxErrno = 4095;
    if (j.contains(num_key) && !j.at(num_key).is_null()) {
        VOLT_TRY_ASSIGN(std::uint64_t n, number_of(j.at(num_key), kMaxErrno, where + "." + num_key,
                                                   "an errno (0-4095)"));
        return static_cast<std::uint32_t>(n);
    }
    if (j.contains(name_key) && !j.at(name_key).is_null()) {
        std::string name = j.at(name_key).get<std::string>();
        static const std::array<std::pair<const char*, int>, 8> names = {{
            {"EPERM", EPERM},
            {"ENOSYS", ENOSYS},
            {"EACCES", EACCES},
            {"EINVAL", EINVAL},
            {"ENOENT", ENOENT},
            {"EOPNOTSUPP", EOPNOTSUPP},
            {"EAFNOSUPPORT", EAFNOSUPPORT},
            {"EPROTONOSUPPORT", EPROTONOSUPPORT},
        }};
        for (const auto& [n, v] : names)
            if (name == n)
                return static_cast<std::uint32_t>(v);
        return Error::usage(where + "." + name_key + ": unknown errno name '" + name + "'");
    }
    return fallback;
}

// "6.18.0-1-amd64" ≥ "5.8"?
bool kernel_at_least(const std::string& release, const std::string& wanted) {
    unsigned have_major = 0, have_minor = 0, want_major = 0, want_minor = 0;
    std::sscanf(release.c_str(), "%u.%u", &have_major, &have_minor);
    std::sscanf(wanted.c_str(), "%u.%u", &want_major, &want_minor);
    return have_major != want_major ? have_major > want_major : have_minor >= want_minor;
}

// Whether a rule's includes/excludes select it for this target (Docker's semantics: includes
// need every listed capability and the native architecture among the listed ones; excludes drop
// the rule when any listed capability or the architecture matches).
Result<bool> selected(const json& rule, const Target& t, const std::string& native,
                      const std::string& where) {
    auto has_cap = [&](const json& name, bool& out) -> Status {
        std::string n = name.get<std::string>();
        for (std::size_t i = 0; i < kCaps.size(); ++i)
            if (n == kCaps[i]) {
                out = (t.caps >> i) & 1;
                return {};
            }
        return Error::usage(where + ": unknown capability '" + n + "'");
    };
    auto arch_matches = [&](const json& arches) {
        for (const auto& a : arches)
            if (a.get<std::string>() == native)
                return true;
        return false;
    };
    if (rule.contains("includes") && rule.at("includes").is_object()) {
        const json& inc = rule.at("includes");
        if (inc.contains("caps"))
            for (const auto& c : inc.at("caps")) {
                bool has = false;
                VOLT_TRY(has_cap(c, has));
                if (!has)
                    return false;
            }
        if (inc.contains("arches") && !inc.at("arches").empty() && !arch_matches(inc.at("arches")))
            return false;
        if (inc.contains("minKernel") && !inc.at("minKernel").is_null() &&
            !kernel_at_least(t.kernel_release, inc.at("minKernel").get<std::string>()))
            return false;
    }
    if (rule.contains("excludes") && rule.at("excludes").is_object()) {
        const json& exc = rule.at("excludes");
        if (exc.contains("caps"))
            for (const auto& c : exc.at("caps")) {
                bool has = false;
                VOLT_TRY(has_cap(c, has));
                if (has)
                    return false;
            }
        if (exc.contains("arches") && arch_matches(exc.at("arches")))
            return false;
    }
    return true;
}

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

Result<Bpf> export_bpf(scmp_filter_ctx ctx) {
    int mfd = ::memfd_create("volt-seccomp-bpf", MFD_CLOEXEC);
    if (mfd < 0)
        return Error::from_errno("memfd_create");
    UniqueFd fd(mfd);
    if (int rc = seccomp_export_bpf(ctx, mfd); rc < 0)
        return Error(-rc, "seccomp_export_bpf");
    off_t size = ::lseek(mfd, 0, SEEK_END);
    if (size < 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return Error(EINVAL, "seccomp_export_bpf: odd program size");
    Bpf bpf;
    bpf.insns.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(mfd, bpf.insns.data(), static_cast<std::size_t>(size), 0) != size)
        return Error::from_errno("reading the exported BPF");
    return bpf;
}

}  // namespace

bool Bpf::operator==(const Bpf& o) const {
    return foreign_arches == o.foreign_arches && insns.size() == o.insns.size() &&
           std::memcmp(insns.data(), o.insns.data(), insns.size() * sizeof(sock_filter)) == 0;
}

std::string_view builtin_profile_text(std::string_view name) {
    if (name == "default")
        return profiles::kDefault;
    if (name == "strict")
        return profiles::kStrict;
    return {};
}

namespace {

// Nesting a profile never needs (it has five levels: the profile, syscalls, a rule, args, an
// arg); text::kMaxJsonNesting says why there is a limit at all.
constexpr std::size_t kMaxNesting = text::kMaxJsonNesting;
// A filter holds at most BPF_MAXINSNS (4096) instructions and every rule takes at least one, so
// no more rules (syscall names times rules) can ever load; libseccomp's time grows faster than
// their number (20000 took 7 s, 40000 40 s).
constexpr std::size_t kMaxRules = 4096;

Result<Bpf> compile_profile(std::string_view json_text, const std::string& source,
                            const CompileOptions& options, std::vector<std::string>* warnings) {
    Target target = options.target;
    if (target.kernel_release.empty()) {
        utsname u{};
        ::uname(&u);
        target.kernel_release = u.release;
    }
    if (text::json_nesting_depth(json_text) > kMaxNesting)
        return Error::usage(source + ": nested deeper than " + std::to_string(kMaxNesting) +
                            " levels");
    json profile;
    try {
        profile = json::parse(json_text);
    } catch (const json::parse_error& e) {
        return Error::usage(source + ": byte " + std::to_string(e.byte) + ": malformed JSON");
    } catch (const json::out_of_range&) {
        // A number too large for a double ("1E400"): nlohmann throws this, not a parse_error.
        return Error::usage(source + ": malformed JSON: a number out of range");
    }
    const ArchName* native = arch_by_token(seccomp_arch_native());
    if (!native)
        return Error(ENOTSUP, "seccomp profiles: unsupported native architecture");
    std::string where;
    try {
        where = "defaultAction";
        VOLT_TRY_ASSIGN(std::uint32_t default_errno,
                        errno_of(profile, "defaultErrnoRet", "defaultErrno", EPERM, source));
        VOLT_TRY_ASSIGN(std::uint32_t default_action,
                        action_of(profile.at("defaultAction").get<std::string>(), default_errno,
                                  source + ": defaultAction"));
        Ctx ctx(seccomp_init(default_action), seccomp_release);
        if (!ctx)
            return Error(ENOMEM, "seccomp_init");
        // A binary tree of syscall numbers instead of a linear chain: every syscall of the
        // container runs through this program (docs/BENCHMARKS.md).
        if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
            return Error(-rc, "seccomp_attr_set(SCMP_FLTATR_CTL_OPTIMIZE)");
        // The native architecture is in every context; add the compat ones the profile names.
        bool foreign_arches = false;
        std::vector<std::string> arches;
        where = "archMap";
        if (profile.contains("archMap") && profile.at("archMap").is_array()) {
            for (const auto& m : profile.at("archMap"))
                if (m.at("architecture").get<std::string>() == native->scmp)
                    for (const auto& sub : m.value("subArchitectures", json::array()))
                        arches.push_back(sub.get<std::string>());
        } else if (profile.contains("architectures") && profile.at("architectures").is_array()) {
            for (const auto& a : profile.at("architectures"))
                arches.push_back(a.get<std::string>());
        }
        for (const auto& name : arches) {
            const ArchName* a = nullptr;
            for (const auto& candidate : kArches)
                if (name == candidate.scmp)
                    a = &candidate;
            if (!a)
                return Error::usage(source + ": unknown architecture '" + name + "'");
            if (a->token == native->token)
                continue;
            if (int rc = seccomp_arch_add(ctx.get(), a->token); rc < 0 && rc != -EEXIST)
                return Error(-rc, "seccomp_arch_add " + name);
            foreign_arches = true;
        }
        // A system call of an architecture the profile does not name kills the whole process
        // (libseccomp's default kills the thread only, leaving the others half-working).
        if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
            rc < 0)
            return Error(-rc, "seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)");
        // Rules keep their actions; the kernel's filter tries rules in libseccomp's order.
        where = "syscalls";
        const json& calls = profile.value("syscalls", json::array());
        std::size_t rules = 0;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            // `where` is what the catch below names; `at`, with the source, what our errors do.
            where = "syscalls[" + std::to_string(i) + "]";
            std::string at = source + ": " + where;
            const json& rule = calls[i];
            VOLT_TRY_ASSIGN(bool use, selected(rule, target, native->go, at));
            if (!use)
                continue;
            VOLT_TRY_ASSIGN(std::uint32_t err, errno_of(rule, "errnoRet", "errno", EPERM, at));
            VOLT_TRY_ASSIGN(std::uint32_t action,
                            action_of(rule.at("action").get<std::string>(), err, at + ".action"));
            if (action == default_action)
                continue;  // libseccomp refuses rules that repeat the default
            std::vector<scmp_arg_cmp> args;
            const json& jargs = rule.value("args", json::array());
            for (std::size_t k = 0; jargs.is_array() && k < jargs.size(); ++k) {
                std::string aw = at + ".args[" + std::to_string(k) + "]";
                VOLT_TRY_ASSIGN(scmp_compare op,
                                operator_of(jargs[k].at("op").get<std::string>(), aw + ".op"));
                VOLT_TRY_ASSIGN(std::uint64_t index, number_of(jargs[k].at("index"), 5,
                                                               aw + ".index", "an argument (0-5)"));
                constexpr std::uint64_t kAny = UINT64_MAX;
                VOLT_TRY_ASSIGN(std::uint64_t value, number_of(jargs[k].at("value"), kAny,
                                                               aw + ".value", "a 64-bit value"));
                std::uint64_t value_two = 0;
                if (jargs[k].contains("valueTwo")) {
                    VOLT_TRY_ASSIGN(value_two, number_of(jargs[k].at("valueTwo"), kAny,
                                                         aw + ".valueTwo", "a 64-bit value"));
                }
                args.push_back({static_cast<unsigned>(index), op, value, value_two});
            }
            std::vector<std::string> names;
            if (rule.contains("names"))
                names = rule.at("names").get<std::vector<std::string>>();
            if (rule.contains("name"))
                names.push_back(rule.at("name").get<std::string>());
            for (const auto& name : names) {
                if (++rules > kMaxRules)
                    return Error::usage(at + ": more than " + std::to_string(kMaxRules) +
                                        " syscall rules, which no seccomp filter can hold");
                int nr = seccomp_syscall_resolve_name(name.c_str());
                if (nr == __NR_SCMP_ERROR) {
                    std::string msg = "unknown syscall '" + name + "' in " + at + " (libseccomp " +
                                      std::to_string(seccomp_version()->major) + "." +
                                      std::to_string(seccomp_version()->minor) + "." +
                                      std::to_string(seccomp_version()->micro) + ")";
                    if (!options.unknown_syscalls_warn)
                        return Error::usage(msg);
                    if (warnings)
                        warnings->push_back(msg);
                    continue;
                }
                int rc = seccomp_rule_add_array(ctx.get(), action, nr,
                                                static_cast<unsigned>(args.size()), args.data());
                if (rc < 0)
                    return Error(-rc, at + ": adding " + name);
            }
        }
        VOLT_TRY_ASSIGN(Bpf bpf, export_bpf(ctx.get()));
        bpf.foreign_arches = foreign_arches;
        return bpf;
    } catch (const json::exception& e) {
        return Error::usage(source + ": " + where + ": " + e.what());
    }
}

}  // namespace

Result<Bpf> compile(std::string_view json_text, const std::string& source,
                    const CompileOptions& options, std::vector<std::string>* warnings) {
    // An error or warning is one line, whatever bytes the names it quotes from the profile hold
    // (a syscall "read\n..." or an architecture with an escape): shown through text::printable.
    std::size_t first_new = warnings ? warnings->size() : 0;
    auto bpf = compile_profile(json_text, source, options, warnings);
    if (warnings)
        for (std::size_t i = first_new; i < warnings->size(); ++i)
            (*warnings)[i] = text::printable((*warnings)[i]);
    if (!bpf)
        return Error(bpf.error().code(), text::printable(bpf.error().message()),
                     bpf.error().kind());
    return bpf;
}

namespace {

// The cache key of a profile (named by its digest) compiled with these options on this host.
std::string cache_key(const std::string& digest, const CompileOptions& options) {
    utsname u{};
    ::uname(&u);
    const scmp_version* v = seccomp_version();
    // Bump kCompilerRevision whenever compile() would emit a different program for the same
    // inputs: old cache files then stop matching.
    constexpr int kCompilerRevision = 3;
    return "volt-seccomp-cache " + std::to_string(kCompilerRevision) + "|profile " + digest +
           "|libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro) + "|kernel " + u.release + "|arch " +
           std::to_string(seccomp_arch_native()) + "|caps " + hex(options.target.caps) +
           "|kernel-override " + options.target.kernel_release + "|unknown " +
           (options.unknown_syscalls_warn ? "warn" : "error");
}

std::string cache_file(const std::string& cache_dir, const std::string& key) {
    return cache_dir + "/" + hex(fnv1a(key)) + ".bpf";
}

// The program in a cache file, if the file is whole and made for `key`:
// KEY\nCOUNT CHECKSUM ARCHES\nBPF, ARCHES being "native" or "foreign" (Bpf::foreign_arches);
// anything else (stale, torn, corrupted) is nullopt.
std::optional<Bpf> read_cache_file(const std::string& path, const std::string& key) {
    // A program is at most BPF_MAXINSNS (4096) instructions of 8 bytes; with its key, a cache
    // file of more than 1 MiB is damaged.
    auto cached = fs::read_record(path, 1 << 20);
    if (!cached)
        return std::nullopt;
    std::string_view c = *cached;
    size_t nl1 = c.find('\n');
    size_t nl2 = nl1 == std::string_view::npos ? nl1 : c.find('\n', nl1 + 1);
    if (nl2 == std::string_view::npos || c.substr(0, nl1) != key)
        return std::nullopt;
    std::string_view body = c.substr(nl2 + 1);
    unsigned long long count = 0;
    char sum[17] = {};
    char arches[8] = {};
    // count is compared by division: a huge count whose product wraps to the body's size would
    // otherwise reach resize() and throw.
    if (std::sscanf(std::string(c.substr(nl1 + 1, nl2 - nl1 - 1)).c_str(), "%llu %16s %7s", &count,
                    sum, arches) != 3 ||
        (std::strcmp(arches, "native") != 0 && std::strcmp(arches, "foreign") != 0) ||
        body.size() % sizeof(sock_filter) != 0 || body.size() / sizeof(sock_filter) != count ||
        hex(fnv1a(body)) != sum)
        return std::nullopt;
    Bpf bpf;
    bpf.foreign_arches = std::strcmp(arches, "foreign") == 0;
    bpf.insns.resize(count);
    std::memcpy(bpf.insns.data(), body.data(), body.size());
    return bpf;
}

}  // namespace

std::string profile_digest(std::string_view json_text) {
    return hex(fnv1a(json_text)) + "|size " + std::to_string(json_text.size());
}

std::optional<Bpf> load_cached(const std::string& digest, const CompileOptions& options,
                               const std::string& cache_dir) {
    const std::string key = cache_key(digest, options);
    return read_cache_file(cache_file(cache_dir, key), key);
}

Result<Bpf> compile_cached(std::string_view json_text, const std::string& source,
                           const CompileOptions& options, const std::string& cache_dir, bool* hit,
                           const std::string& digest) {
    const std::string key = cache_key(digest.empty() ? profile_digest(json_text) : digest, options);
    const std::string path = cache_file(cache_dir, key);
    if (hit)
        *hit = false;
    if (auto cached = read_cache_file(path, key)) {
        if (hit)
            *hit = true;
        return std::move(*cached);
    }
    auto bpf = compile(json_text, source, options);
    if (!bpf)
        return bpf;
    std::string_view body(reinterpret_cast<const char*>(bpf->insns.data()),
                          bpf->insns.size() * sizeof(sock_filter));
    std::string file = key + "\n" + std::to_string(bpf->insns.size()) + " " + hex(fnv1a(body)) +
                       (bpf->foreign_arches ? " foreign" : " native") + "\n" + std::string(body);
    // A cache: failing to keep it only costs the next compile. Written under the cache's lock,
    // taken without waiting (busy: another volt-run is writing one, and this one skips it), so
    // that its holder may remove the temporaries of writes that were killed before their rename.
    if (!fs::mkdir_p(cache_dir, 0700))
        return bpf;
    auto lock = fs::FileLock::acquire(cache_dir + "/lock", false);
    if (!lock)
        return bpf;
    if (auto names = fs::list_dir(cache_dir))
        for (const auto& n : *names)
            if (auto at = n.find(".bpf.tmp."); at != std::string::npos)
                (void)fs::remove_temporaries(cache_dir + "/" + n.substr(0, at + 4));
    (void)fs::write_file_atomic(path, file, 0600, fs::Durability::volatile_ok);
    return bpf;
}

int install(const sock_filter* insns, std::size_t count) {
    sock_fprog prog{static_cast<unsigned short>(count), const_cast<sock_filter*>(insns)};
    auto load = [&](unsigned flags) {
        return sys::seccomp_set_filter(flags, &prog) == 0 ? 0 : errno;
    };
    int err = load(SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    if (err == EINVAL)
        err = load(0);
    if (err == EACCES) {
        // No CAP_SYS_ADMIN in our user namespace: the kernel wants no_new_privs.
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            return errno;
        err = load(SECCOMP_FILTER_FLAG_SPEC_ALLOW);
        if (err == EINVAL)
            err = load(0);
    }
    return err;
}

}  // namespace volt::seccomp
