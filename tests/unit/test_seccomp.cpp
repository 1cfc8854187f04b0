// seccomp profiles: parsing and compiling (pure: libseccomp builds the program in memory).
#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "base/hash.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "seccomp_eval.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::seccomp;

namespace {

Result<Bpf> compile_text(const std::string& text, bool warn = false,
                         std::vector<std::string>* warnings = nullptr) {
    CompileOptions o;
    o.unknown_syscalls_warn = warn;
    return compile(text, "p.json", o, warnings);
}

}  // namespace

TEST_CASE("the shipped profiles compile", "[unit]") {
    for (const char* name : {"default", "strict"}) {
        INFO(name);
        auto bpf = compile(builtin_profile_text(name), name, {});
        REQUIRE(bpf.ok());
        CHECK(bpf->insns.size() > 100);
    }
    CHECK(builtin_profile_text("unconfined").empty());
    // Different profiles, different programs; the same profile, the same program.
    CHECK_FALSE(*compile(builtin_profile_text("default"), "d", {}) ==
                *compile(builtin_profile_text("strict"), "s", {}));
    CHECK(*compile(builtin_profile_text("strict"), "s", {}) ==
          *compile(builtin_profile_text("strict"), "s", {}));
}

TEST_CASE("bad profiles: one line naming the profile and the place", "[unit]") {
    struct Case {
        std::string text, message;
    };
    for (const auto& c : std::vector<Case>{
             {"{\"defaultAction\": ", "p.json: byte "},
             {R"({"defaultAction": "SCMP_ACT_MAYBE"})",
              "p.json: defaultAction: unknown or unsupported action 'SCMP_ACT_MAYBE'"},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
                 "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]})",
              "p.json: syscalls[0].args[0].op: unknown operator 'SCMP_CMP_XX'"},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
                 "action": "SCMP_ACT_ERRNO", "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
              "p.json: syscalls[0].args[0].index: 7 is not an argument"},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_call"],
                 "action": "SCMP_ACT_ERRNO"}]})",
              "unknown syscall 'no_such_call' in p.json: syscalls[0]"},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"],
                 "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_FLY"]}}]})",
              "p.json: syscalls[0]: unknown capability 'CAP_FLY'"},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]})",
              "p.json: unknown architecture 'SCMP_ARCH_VAX'"},
             {R"({"syscalls": []})", "p.json: defaultAction: "},
         }) {
        INFO(c.text);
        auto bpf = compile_text(c.text);
        REQUIRE_FALSE(bpf.ok());
        CHECK(bpf.error().kind() == ErrorKind::usage);
        CHECK(bpf.error().describe().find(c.message) != std::string::npos);
        CHECK(bpf.error().describe().find('\n') == std::string::npos);
    }
}

TEST_CASE("unknown syscall names can be warnings instead", "[unit]") {
    std::vector<std::string> warnings;
    auto bpf = compile_text(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["no_such_call", "getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})",
                            true, &warnings);
    REQUIRE(bpf.ok());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("unknown syscall 'no_such_call'") != std::string::npos);
}

TEST_CASE("a profile nested 100000 deep is refused, not a stack overflow (issue 15)", "[unit]") {
    const std::size_t n = 100000;
    const std::string deep_args =
        R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"], )"
        R"("action": "SCMP_ACT_ERRNO", "args": )" +
        std::string(n, '[') + std::string(n, ']') + "}]}";
    CHECK(test::message_of(compile_text(deep_args)) == "p.json: nested deeper than 64 levels");
    // Brackets inside strings are text, not nesting.
    const std::string in_string =
        R"({"defaultAction": "SCMP_ACT_ALLOW", "comment": ")" + std::string(n, '[') + R"("})";
    CHECK(compile_text(in_string).ok());
}

TEST_CASE("a number too large for a double is malformed JSON, not an exception (fuzz_seccomp)",
          "[unit]") {
    CHECK(test::message_of(compile_text(R"({"defaultAction": "SCMP_ACT_ALLOW", "x": 1E400})")) ==
          "p.json: malformed JSON: a number out of range");
}

TEST_CASE("more syscall rules than a filter can hold are refused at once (issue 15)", "[unit]") {
    std::string names;
    for (int i = 0; i < 4097; ++i)
        names += std::string(i ? ", " : "") + R"("getpid")";
    auto bpf = compile_text(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [)" +
                            names + R"(], "action": "SCMP_ACT_ERRNO"}]})");
    CHECK(test::message_of(bpf) ==
          "p.json: syscalls[0]: more than 4096 syscall rules, which no seccomp filter can hold");
}

TEST_CASE("names from the profile are shown on one line in errors and warnings (fuzz_seccomp)",
          "[unit]") {
    const std::string profile = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["get\npid"], "action": "SCMP_ACT_ERRNO"}]})";
    CHECK(test::message_of(compile_text(profile)).find("unknown syscall 'get\\npid'") == 0);
    std::vector<std::string> warnings;
    REQUIRE(compile_text(profile, true, &warnings).ok());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("unknown syscall 'get\\npid'") == 0);
    auto arch =
        compile_text(R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x\u001b"]})");
    CHECK(test::message_of(arch) == "p.json: unknown architecture 'x\\x1b'");
}

TEST_CASE("includes and excludes follow the capabilities and the kernel", "[unit]") {
    std::string profile = R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "syscalls": [
          {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
          {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
           "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
          {"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}]})";
    CompileOptions admin, nobody;
    admin.target.caps = 1ULL << 21;  // CAP_SYS_ADMIN
    nobody.target.caps = 0;
    auto a = compile(profile, "p", admin), n = compile(profile, "p", nobody);
    REQUIRE(a.ok());
    REQUIRE(n.ok());
    CHECK_FALSE(*a == *n);
    // minKernel 99.0 leaves gettid out: the same program as without that rule.
    CompileOptions old_kernel = admin;
    old_kernel.target.kernel_release = "6.1.0";
    std::string without = profile.substr(0, profile.rfind(",\n")) + "]}";
    CHECK(*compile(profile, "p", old_kernel) == *compile(without, "p", old_kernel));
}

TEST_CASE("nspawn's restrictions: what the guest is refused, by capability", "[unit]") {
#if defined(__x86_64__)
    constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#endif
    constexpr std::uint64_t kSysTime = 1ULL << 25, kSysPtrace = 1ULL << 19;
    auto verdict = [](const Bpf& bpf, int nr, std::uint64_t a0 = 0, std::uint64_t a2 = 0) {
        seccomp_data d{};
        d.nr = nr;
        d.arch = kArch;
        d.args[0] = a0;
        d.args[2] = a2;
        return test::run_filter(bpf.insns, d);
    };
    CompileOptions o;
    o.unknown_syscalls_warn = true;
    // A container that keeps CAP_SYS_PTRACE but not CAP_SYS_TIME, as nspawn's default does.
    auto bpf = compile(nspawn_restrictions_profile(~kSysTime), "nspawn", o);
    REQUIRE(bpf.ok());
    const std::uint32_t eperm = SECCOMP_RET_ERRNO | EPERM;
    CHECK(verdict(*bpf, SYS_keyctl) == eperm);
    CHECK(verdict(*bpf, SYS_add_key) == eperm);
    CHECK(verdict(*bpf, SYS_open_by_handle_at) == eperm);
    CHECK(verdict(*bpf, SYS_bpf) == eperm);
    CHECK(verdict(*bpf, SYS_kexec_load) == eperm);
    CHECK(verdict(*bpf, SYS_clock_settime) == eperm);
    CHECK(verdict(*bpf, SYS_ptrace) == SECCOMP_RET_ALLOW);
    CHECK(verdict(*bpf, SYS_read) == SECCOMP_RET_ALLOW);
    CHECK(verdict(*bpf, SYS_mount) == SECCOMP_RET_ALLOW);
    // Audit sockets look like a kernel without audit; other netlink sockets work.
    CHECK(verdict(*bpf, SYS_socket, AF_NETLINK, NETLINK_AUDIT) ==
          (SECCOMP_RET_ERRNO | EAFNOSUPPORT));
    CHECK(verdict(*bpf, SYS_socket, AF_NETLINK, NETLINK_ROUTE) == SECCOMP_RET_ALLOW);
    CHECK(verdict(*bpf, SYS_socket, AF_INET, 0) == SECCOMP_RET_ALLOW);
    // The caller's terminal cannot be typed into or read through the console ioctls; other
    // ioctls pass (the upper 32 bits of the command are ignored, as the kernel does).
    auto ioctl = [&](std::uint64_t cmd) {
        seccomp_data d{};
        d.nr = SYS_ioctl;
        d.arch = kArch;
        d.args[1] = cmd;
        return test::run_filter(bpf->insns, d);
    };
    CHECK(ioctl(0x5412) == eperm);                 // TIOCSTI
    CHECK(ioctl(0xffffffff00005412ULL) == eperm);  // TIOCSTI with garbage above
    CHECK(ioctl(0x541C) == eperm);                 // TIOCLINUX
    CHECK(ioctl(0x5401) == SECCOMP_RET_ALLOW);     // TCGETS
    // What a capability allows follows the bounding set.
    auto no_ptrace = compile(nspawn_restrictions_profile(~kSysPtrace), "nspawn", o);
    REQUIRE(no_ptrace.ok());
    CHECK(verdict(*no_ptrace, SYS_ptrace) == eperm);
    CHECK(verdict(*no_ptrace, SYS_clock_settime) == SECCOMP_RET_ALLOW);
    // Another architecture's numbers never pass for native ones: a foreign arch field is refused
    // by the program's architecture check (libseccomp's default: kill).
    seccomp_data foreign{};
    foreign.nr = SYS_read;
    foreign.arch = 0x12345678;
    CHECK(!test::allows(test::run_filter(bpf->insns, foreign)));
}

TEST_CASE("nspawn's restrictions are cached under a revision their text is pinned to", "[unit]") {
    CHECK(nspawn_restrictions_digest(~0ULL) ==
          "nspawn-restrictions 1|bounding 18446744073709551615");
    // exec finds the compiled filter by that digest without generating the text. When this
    // fails, nspawn_restrictions_profile's output changed: bump kRestrictionsRevision in
    // seccomp-profiles/nspawn.cpp (and the revision above) with these hashes, so that a filter
    // cached from the old text is never taken for the new one.
    CHECK(hash::hex(hash::fnv1a(nspawn_restrictions_profile(~0ULL))) == "b092ab5c44e674a4");
    CHECK(hash::hex(hash::fnv1a(nspawn_restrictions_profile(0))) == "b1d50d9c3968a040");
    // The native-only variant is another text, so another digest.
    CHECK(nspawn_restrictions_digest(~0ULL, false) ==
          "nspawn-restrictions 1|bounding 18446744073709551615|native");
    CHECK(hash::hex(hash::fnv1a(nspawn_restrictions_profile(~0ULL, false))) !=
          hash::hex(hash::fnv1a(nspawn_restrictions_profile(~0ULL))));
}

TEST_CASE("the shipped profiles cover the native architecture only and kill the others' calls",
          "[unit]") {
#if defined(__x86_64__)
    CompileOptions o;
    o.unknown_syscalls_warn = true;
    auto call = [](const Bpf& bpf, std::uint32_t arch, int nr) {
        seccomp_data d{};
        d.nr = nr;
        d.arch = arch;
        return test::run_filter(bpf.insns, d);
    };
    constexpr int kI386Getpid = 20, kX32Bit = 0x40000000;
    for (const char* name : {"default", "strict"}) {
        INFO(name);
        auto bpf = compile(builtin_profile_text(name), name, o);
        REQUIRE(bpf.ok());
        CHECK_FALSE(bpf->foreign_arches);
        CHECK(call(*bpf, AUDIT_ARCH_X86_64, SYS_getpid) == SECCOMP_RET_ALLOW);
        CHECK(call(*bpf, AUDIT_ARCH_I386, kI386Getpid) == SECCOMP_RET_KILL_PROCESS);
        CHECK(call(*bpf, AUDIT_ARCH_X86_64, kX32Bit | 39) == SECCOMP_RET_KILL_PROCESS);
    }
    // nspawn's restrictions: every architecture, or the native one beside such a profile.
    auto wide = compile(nspawn_restrictions_profile(~0ULL), "nspawn", o);
    auto narrow = compile(nspawn_restrictions_profile(~0ULL, false), "nspawn", o);
    REQUIRE(wide.ok());
    REQUIRE(narrow.ok());
    CHECK(wide->foreign_arches);
    CHECK_FALSE(narrow->foreign_arches);
    CHECK(narrow->insns.size() * 2 < wide->insns.size());
    CHECK(call(*wide, AUDIT_ARCH_I386, kI386Getpid) == SECCOMP_RET_ALLOW);
    CHECK(call(*narrow, AUDIT_ARCH_I386, kI386Getpid) == SECCOMP_RET_KILL_PROCESS);
    CHECK(call(*narrow, AUDIT_ARCH_X86_64, SYS_getpid) == SECCOMP_RET_ALLOW);
    CHECK((call(*narrow, AUDIT_ARCH_X86_64, SYS_kexec_load) & SECCOMP_RET_ACTION_FULL) ==
          SECCOMP_RET_ERRNO);
    // A profile naming the compat architectures keeps them, with its own rules.
    auto compat = compile(R"({"defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}]})",
                          "compat", o);
    REQUIRE(compat.ok());
    CHECK(compat->foreign_arches);
    CHECK(call(*compat, AUDIT_ARCH_I386, kI386Getpid) == SECCOMP_RET_ALLOW);
#else
    test::skip_unless(false, "an x86-64 machine (the x86 and x32 ABIs)");
#endif
}

TEST_CASE("a cache write removes what killed writes left, but not while another holds the lock",
          "[unit]") {
    test::TempDir cache;
    const std::string text(builtin_profile_text("default"));
    CompileOptions o;
    o.target.caps = 0x3fULL;
    REQUIRE(compile_cached(text, "default", o, cache.path()).ok());  // makes the directory
    const std::string leftover = cache / "0123456789abcdef.bpf.tmp.Xy12Z9";
    REQUIRE(fs::write_file_atomic(leftover, "half a filter").ok());
    {
        // A writer at work holds the lock: the next writer neither waits nor touches its files.
        auto busy = fs::FileLock::acquire(cache / "lock");
        REQUIRE(busy.ok());
        o.target.caps = 0x1ULL;  // a miss: compiled, and not stored
        bool hit = true;
        REQUIRE(compile_cached(text, "default", o, cache.path(), &hit).ok());
        CHECK_FALSE(hit);
        CHECK(fs::exists(leftover));
        CHECK_FALSE(load_cached(profile_digest(text), o, cache.path()));
    }
    // Once it is free, the next write removes the leftover and stores its own filter.
    REQUIRE(compile_cached(text, "default", o, cache.path()).ok());
    CHECK_FALSE(fs::exists(leftover));
    CHECK(load_cached(profile_digest(text), o, cache.path()));
}

TEST_CASE("a compiled filter is found again by its profile's digest, without the profile",
          "[unit]") {
    test::TempDir cache;
    const std::string text(builtin_profile_text("default"));
    const std::string digest = profile_digest(text);
    CompileOptions o;
    o.target.caps = 0x3fULL;
    CHECK_FALSE(load_cached(digest, o, cache.path()));
    auto first = compile_cached(text, "default", o, cache.path());
    REQUIRE(first.ok());
    auto again = load_cached(digest, o, cache.path());
    REQUIRE(again);
    CHECK(*again == *first);
    // Other capabilities are another filter; so is another text.
    CompileOptions fewer = o;
    fewer.target.caps = 0x1ULL;
    CHECK_FALSE(load_cached(digest, fewer, cache.path()));
    CHECK_FALSE(load_cached(profile_digest(text + " "), o, cache.path()));
    // A filter stored under a digest of the caller's is found by it.
    const std::string restrictions = nspawn_restrictions_digest(0x3fULL);
    bool hit = true;
    auto made = compile_cached(nspawn_restrictions_profile(0x3fULL), "nspawn", o, cache.path(),
                               &hit, restrictions);
    REQUIRE(made.ok());
    CHECK_FALSE(hit);
    auto found = load_cached(restrictions, o, cache.path());
    REQUIRE(found);
    CHECK(*found == *made);
}
