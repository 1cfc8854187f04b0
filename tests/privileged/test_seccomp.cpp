// seccomp filters installed for real: a probe (try-syscall) shows what is refused, with which
// errno, on the native and the x86 compat ABI; and the cache.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::seccomp;

namespace {

// Runs try-syscall ARGS under the filter (none: null); returns its exit code (0 = ok, else the
// errno), or minus the signal that killed it.
int probe(const Bpf* bpf, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {VOLT_TRY_SYSCALL};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (bpf && install(bpf->insns.data(), bpf->insns.size()) != 0)
            ::_exit(254);
        ::execv(cargv[0], cargv.data());
        ::_exit(253);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) < 250);
    return WEXITSTATUS(status);
}

int probe(const Bpf& bpf, const std::vector<std::string>& args) {
    return probe(&bpf, args);
}

Bpf shipped(const char* name, std::uint64_t caps = ~0ULL) {
    CompileOptions o;
    o.target.caps = caps;
    auto bpf = compile(builtin_profile_text(name), name, o);
    REQUIRE(bpf.ok());
    return *bpf;
}

// A shipped profile with Docker's archMap for x86-64 added: its rules for the compat ABIs too.
Bpf with_compat_arches(const char* name) {
    std::string text(builtin_profile_text(name));
    text.insert(text.find('{') + 1, R"("archMap": [{"architecture": "SCMP_ARCH_X86_64",
        "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],)");
    auto bpf = compile(text, name, {});
    REQUIRE(bpf.ok());
    REQUIRE(bpf->foreign_arches);
    return *bpf;
}

}  // namespace

TEST_CASE("the strict profile refuses with the profile's errnos", "[privileged][rootless]") {
    Bpf strict = shipped("strict"), dflt = shipped("default");
    Bpf none = *compile(R"({"defaultAction": "SCMP_ACT_ALLOW"})", "allow-all", {});
    CHECK(probe(strict, {"getpid"}) == 0);
    // Plain denials: EPERM, as the profile says.
    CHECK(probe(strict, {"swapon"}) == EPERM);
    CHECK(probe(strict, {"init_module"}) == EPERM);
    CHECK(probe(strict, {"kexec_load"}) == EPERM);
    CHECK(probe(strict, {"ptrace"}) == EPERM);
    // Allowed by default (the kernel answers: no such process), denied by strict.
    CHECK(probe(dflt, {"ptrace"}) == ESRCH);
    // The errno is the profile's own, whatever the kernel would have said.
    Bpf odd = *compile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["swapon"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}]})",
                       "odd", {});
    CHECK(probe(odd, {"swapon"}) == 77);
    CHECK(probe(none, {"getpid"}) == 0);
    // clone3 ENOSYS, so that glibc falls back to clone; the kernel itself says EINVAL.
    CHECK(probe(strict, {"clone3"}) == ENOSYS);
    CHECK(probe(dflt, {"clone3"}) == EINVAL);
}

TEST_CASE("an argument-conditioned rule: personality", "[privileged][rootless]") {
    Bpf strict = shipped("strict"), dflt = shipped("default");
    CHECK(probe(strict, {"personality", "0xffffffff"}) == 0);  // the query
    CHECK(probe(strict, {"personality", "0"}) == 0);           // PER_LINUX
    // READ_IMPLIES_EXEC is not among the allowed values: the default action, ENOSYS.
    CHECK(probe(strict, {"personality", "0x400000"}) == ENOSYS);
    CHECK(probe(dflt, {"personality", "0x400000"}) == 0);
}

TEST_CASE("the x32 compat ABI is filtered too", "[privileged][rootless]") {
#if defined(__x86_64__)
    Bpf strict = with_compat_arches("strict");
    // Without a filter the kernel answers for itself: ENOSYS where x32 is off (Debian's
    // default), EFAULT where it is on. The filter answers first, with the profile's EPERM.
    int kernel = probe(nullptr, {"x32-swapon"});
    CHECK((kernel == ENOSYS || kernel == EFAULT));
    CHECK(probe(strict, {"x32-swapon"}) == EPERM);
    CHECK(probe(strict, {"x32-getpid"}) == probe(nullptr, {"x32-getpid"}));
    // The shipped profile covers the native ABI only: any x32 call kills the process.
    CHECK(probe(shipped("strict"), {"x32-getpid"}) == -SIGSYS);
    CHECK(probe(shipped("default"), {"x32-getpid"}) == -SIGSYS);
#else
    test::skip_unless(false, "an x86-64 machine (the x32 ABI)");
#endif
}

TEST_CASE("the x86 int 0x80 compat ABI is filtered too", "[privileged]") {
#if defined(__x86_64__)
    // Where the kernel has no IA-32 emulation, int 0x80 faults (SIGSEGV).
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char* argv[] = {const_cast<char*>(VOLT_TRY_SYSCALL), const_cast<char*>("int80-getpid"),
                        nullptr};
        ::execv(argv[0], argv);
        ::_exit(253);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    test::skip_unless(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "IA-32 emulation (int 0x80 faults on this kernel)");
    Bpf strict = with_compat_arches("strict");
    CHECK(probe(strict, {"int80-getpid"}) == 0);
    CHECK(probe(strict, {"int80-personality", "0x400000"}) == ENOSYS);
    CHECK(probe(strict, {"int80-personality", "0xffffffff"}) == 0);
    // The shipped profiles cover the native ABI only: a 32-bit call kills the process, and so
    // do nspawn's restrictions in the form exec installs beside them.
    CHECK(probe(shipped("strict"), {"int80-getpid"}) == -SIGSYS);
    CHECK(probe(shipped("default"), {"int80-getpid"}) == -SIGSYS);
    CompileOptions warn;
    warn.unknown_syscalls_warn = true;  // calls newer than this libseccomp
    auto narrow = compile(nspawn_restrictions_profile(~0ULL, false), "nspawn", warn);
    REQUIRE(narrow.ok());
    CHECK(probe(*narrow, {"int80-getpid"}) == -SIGSYS);
    CHECK(probe(*narrow, {"getpid"}) == 0);
#else
    test::skip_unless(false, "an x86-64 machine (the test uses int 0x80)");
#endif
}

TEST_CASE("containers-common's profile loads unmodified and follows capabilities",
          "[privileged][rootless]") {
    const std::string path = "/usr/share/containers/seccomp.json";
    test::skip_unless(fs::exists(path),
                      "/usr/share/containers/seccomp.json (golang-github-containers-common)");
    auto text = fs::read_file(path);
    REQUIRE(text.ok());
    CompileOptions root, unprivileged;
    root.target.caps = ~0ULL;
    unprivileged.target.caps = 0;
    auto with_caps = compile(*text, path, root);
    INFO((with_caps ? "" : with_caps.error().describe()));
    REQUIRE(with_caps.ok());
    auto without_caps = compile(*text, path, unprivileged);
    REQUIRE(without_caps.ok());
    // chroot needs CAP_SYS_CHROOT: allowed (the kernel says EFAULT to a null path) or EPERM.
    CHECK(probe(*with_caps, {"chroot"}) == EFAULT);
    CHECK(probe(*without_caps, {"chroot"}) == EPERM);
    CHECK(probe(*without_caps, {"getpid"}) == 0);
    CHECK(probe(*without_caps, {"personality", "0x400000"}) == ENOSYS);
}

TEST_CASE("compiled filters are cached, and a change or a corruption is rebuilt",
          "[privileged][rootless]") {
    test::TempDir cache;
    std::string profile(builtin_profile_text("strict"));
    bool hit = true;
    auto first = compile_cached(profile, "strict", {}, cache.path(), &hit);
    REQUIRE(first.ok());
    CHECK_FALSE(hit);
    auto second = compile_cached(profile, "strict", {}, cache.path(), &hit);
    REQUIRE(second.ok());
    CHECK(hit);
    CHECK(*first == *second);
    // One byte of the profile changed (a space after the first brace): a miss.
    std::string changed = "{ " + profile.substr(1);
    auto third = compile_cached(changed, "strict", {}, cache.path(), &hit);
    REQUIRE(third.ok());
    CHECK_FALSE(hit);
    // Other capabilities are another key.
    CompileOptions fewer;
    fewer.target.caps = 0;
    REQUIRE(compile_cached(profile, "strict", fewer, cache.path(), &hit).ok());
    CHECK_FALSE(hit);
    // Corrupt every cache file's last instruction: detected, rebuilt, then cached again.
    auto files = fs::list_dir(cache.path());
    REQUIRE(files.ok());
    std::erase_if(*files, [](const std::string& f) { return !f.ends_with(".bpf"); });  // the lock
    CHECK(files->size() == 3);
    for (const auto& f : *files) {
        auto bytes = fs::read_file(cache / f);
        REQUIRE(bytes.ok());
        std::string broken = *bytes;
        broken.back() ^= 0x5a;
        REQUIRE(fs::write_file_atomic(cache / f, broken).ok());
    }
    auto rebuilt = compile_cached(profile, "strict", {}, cache.path(), &hit);
    REQUIRE(rebuilt.ok());
    CHECK_FALSE(hit);
    CHECK(*rebuilt == *first);
    REQUIRE(compile_cached(profile, "strict", {}, cache.path(), &hit).ok());
    CHECK(hit);
}
