// seccomp profiles: parsing and compiling (pure: libseccomp builds the program in memory).
#include <catch2/catch.hpp>

#include "seccomp-profiles/seccomp.hpp"

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
