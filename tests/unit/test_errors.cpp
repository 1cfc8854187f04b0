// Bad input to the libraries comes back as an Error value (or as no value where the API has one
// for it), never as an exception and never as a wrong value: a cgroup path outside the mount,
// counters that are not numbers, a policy number with a sign, profile JSON of the wrong type or
// range, a cache file whose count would wrap.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/fs.hpp"
#include "cgroup/limits.hpp"
#include "landlock/landlock.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// The error's one line, checked to be one usage line naming `part`.
void check_usage_line(const Error& e, const std::string& part) {
    std::string line = e.describe();
    INFO(line);
    CHECK(e.kind() == ErrorKind::usage);
    CHECK(line.find(part) != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
}

}  // namespace

TEST_CASE("enable_controllers: a cgroup not below the mount is an error, not out_of_range",
          "[unit]") {
    test::TempDir fake;
    std::string mount = fake.path();
    REQUIRE(fs::write_file_atomic(mount + "/cgroup.controllers", "memory\n").ok());
    std::vector<std::string> missing;
    std::string why;
    for (const std::string& cgroup : {std::string("/web"), mount, mount + "-other/web"}) {
        INFO(cgroup);
        Status st = cgroup::enable_controllers(mount, cgroup, {"memory"}, missing, why);
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code() == EINVAL);
        CHECK(st.error().describe().find(cgroup + " is not below the cgroup2 mount " + mount) !=
              std::string::npos);
    }
}

TEST_CASE("cgroup counters that are not numbers stay unset instead of reading as 0 or 2^64-1",
          "[unit]") {
    test::TempDir cg;
    auto put = [&](const char* name, const char* text) {
        REQUIRE(fs::write_file_atomic(cg / name, text).ok());
    };
    put("memory.current", "garbage\n");
    put("memory.peak", "99999999999999999999999\n");  // beyond 64 bits
    put("pids.current", "-5\n");
    put("memory.events", "oom_kill 2x\n");
    put("cpu.stat", "usage_usec 18446744073709551616\nnr_throttled \nthrottled_usec 12\n");
    auto s = cgroup::read_stats(cg.path());
    CHECK_FALSE(s.memory_current.has_value());
    CHECK_FALSE(s.memory_peak.has_value());
    CHECK_FALSE(s.pids_current.has_value());
    CHECK_FALSE(s.oom_kills.has_value());
    CHECK_FALSE(s.cpu_usage_usec.has_value());
    CHECK_FALSE(s.nr_throttled.has_value());
    CHECK(s.throttled_usec == 12u);
    // The largest counter there is still reads.
    put("memory.current", "18446744073709551615\n");
    CHECK(cgroup::read_stats(cg.path()).memory_current == 18446744073709551615u);
}

TEST_CASE("Landlock policy numbers: a sign, a space or too many digits is not a right or a port",
          "[unit]") {
    for (const char* text :
         {"fs /srv 0x-1", "fs /srv 0x+1", "fs /srv -1", "fs /srv 0x", "fs /srv 0x10000000000000000",
          "fs /srv 99999999999999999999", "net bind-tcp 0x-1", "net connect-tcp +80"}) {
        INFO(text);
        auto p = landlock::parse_policy(text, "p.policy");
        REQUIRE_FALSE(p.ok());
        check_usage_line(p.error(), "p.policy:1: ");
    }
    // Plain numbers still parse.
    auto p = landlock::parse_policy("fs /srv 0x3\nnet bind-tcp 0x50\n", "p.policy");
    REQUIRE(p.ok());
    REQUIRE(p->paths.size() == 1);
    CHECK(p->paths[0].rights == 3u);
    CHECK(p->bind_ports == std::vector<std::uint16_t>{80});
}

TEST_CASE("seccomp profiles of the wrong type or range: one usage line, no exception", "[unit]") {
    struct Case {
        std::string text, message;
    };
    const std::string rule_head =
        R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getpid"], )";
    for (const auto& c : std::vector<Case>{
             {R"({"defaultAction": 5})", "p.json: defaultAction: "},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": "getpid"})", "p.json: "},
             {R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [5]})", "p.json: syscalls[0]"},
             {rule_head + R"("action": 7}]})", "p.json: syscalls[0]"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "names": "getpid"}]})",
              "p.json: syscalls[0]"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "errnoRet": "1"}]})",
              "p.json: syscalls[0].errnoRet: a string is not an errno (0-4095)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "errnoRet": -1}]})",
              "p.json: syscalls[0].errnoRet: -1 is not an errno (0-4095)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]})",
              "p.json: syscalls[0].errnoRet: 70000 is not an errno (0-4095)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "errnoRet": 1e30}]})",
              "p.json: syscalls[0].errnoRet: 1e+30 is not an errno (0-4095)"},
             {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1.5})",
              "p.json.defaultErrnoRet: 1.5 is not an errno (0-4095)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "args": [{"index": 1.5, "value": 1,
                 "op": "SCMP_CMP_EQ"}]}]})",
              "p.json: syscalls[0].args[0].index: 1.5 is not an argument (0-5)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "args": [{"index": -1, "value": 1,
                 "op": "SCMP_CMP_EQ"}]}]})",
              "p.json: syscalls[0].args[0].index: -1 is not an argument (0-5)"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1,
                 "op": "SCMP_CMP_EQ"}]}]})",
              "p.json: syscalls[0].args[0].value: -1 is not a 64-bit value"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1,
                 "valueTwo": "x", "op": "SCMP_CMP_MASKED_EQ"}]}]})",
              "p.json: syscalls[0].args[0].valueTwo: a string is not a 64-bit value"},
             {rule_head + R"("action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1,
                 "op": 3}]}]})",
              "p.json: syscalls[0]"},
         }) {
        INFO(c.text);
        Result<seccomp::Bpf> bpf = Error(0, "not run");
        REQUIRE_NOTHROW(bpf = seccomp::compile(c.text, "p.json", {}));
        REQUIRE_FALSE(bpf.ok());
        check_usage_line(bpf.error(), c.message);
    }
}

TEST_CASE("a seccomp cache file whose count wraps to its size is rebuilt, not resized to it",
          "[unit]") {
    test::TempDir cache;
    std::string profile(seccomp::builtin_profile_text("strict"));
    bool hit = true;
    auto first = seccomp::compile_cached(profile, "strict", {}, cache.path(), &hit);
    REQUIRE(first.ok());
    auto files = fs::list_dir(cache.path());
    REQUIRE(files.ok());
    std::erase_if(*files, [](const std::string& f) { return !f.ends_with(".bpf"); });  // the lock
    REQUIRE(files->size() == 1);
    std::string path = cache / files->front();
    auto bytes = fs::read_file(path);
    REQUIRE(bytes.ok());
    // KEY\nCOUNT SUM\nBPF: COUNT + 2^61 times 8 bytes wraps to the body's size exactly.
    std::size_t nl1 = bytes->find('\n');
    std::size_t space = bytes->find(' ', nl1);
    REQUIRE(space != std::string::npos);
    std::string count = bytes->substr(nl1 + 1, space - nl1 - 1);
    REQUIRE(count == std::to_string(first->insns.size()));
    std::string wrapped = std::to_string(std::stoull(count) + (1ULL << 61));
    REQUIRE(fs::write_file_atomic(path, bytes->substr(0, nl1 + 1) + wrapped + bytes->substr(space))
                .ok());
    Result<seccomp::Bpf> again = Error(0, "not run");
    REQUIRE_NOTHROW(again = seccomp::compile_cached(profile, "strict", {}, cache.path(), &hit));
    REQUIRE(again.ok());
    CHECK_FALSE(hit);
    CHECK(*again == *first);
}
