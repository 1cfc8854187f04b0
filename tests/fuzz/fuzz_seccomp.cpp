// seccomp profiles: compile never throws and never crashes, whatever the JSON; an error is one
// line. Inputs are capped at 64 KiB, so a run measures the compiler, not libseccomp on a giant
// filter (profiles that large are refused or slow for reasons of their own: test_seccomp.cpp).
#include "seccomp-profiles/seccomp.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

// libseccomp 2.5.4 leaks the rules of a failed transaction on a compat architecture with
// multiplexed socket calls (x86's socketcall: see corpus/seccomp/leak-socketcall-x86.json). The
// leak is libseccomp's, bounded, and once per compile. zmalloc is libseccomp's allocator, the one
// frame libFuzzer's fast unwinder sees in it (the archive has no frame pointers).
extern "C" const char* __lsan_default_suppressions() {
    return "leak:zmalloc\n";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024)
        return 0;
    fuzz::guard([&] {
        seccomp::CompileOptions options;
        options.target.kernel_release = "6.1.0-fuzz";  // no uname() per input
        // The first byte picks the capabilities and whether unknown syscalls are only warned of,
        // so that includes/excludes and both paths get exercised.
        if (size > 0) {
            options.unknown_syscalls_warn = data[0] & 1;
            if (data[0] & 2)
                options.target.caps = 0;
        }
        std::vector<std::string> warnings;
        auto bpf = seccomp::compile(fuzz::text_of(data, size), "fuzz.json", options, &warnings);
        if (!bpf) {
            fuzz::check_one_line(bpf.error());
            return;
        }
        fuzz::check(!bpf->insns.empty(), "an empty filter compiled");
        for (const auto& w : warnings)
            fuzz::check(w.find('\n') == std::string::npos, "warning is not one line", w);
    });
    return 0;
}
