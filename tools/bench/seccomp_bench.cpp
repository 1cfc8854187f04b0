// seccomp compile vs cache: the time to get a profile's BPF by compiling it with libseccomp and
// by reading it from the cache, as boot and exec do.
// Usage: volt-seccomp-bench [N]   (uses a temporary cache directory)
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/fs.hpp"
#include "seccomp-profiles/seccomp.hpp"

namespace {
double now_us() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}
}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 200;
    char dir[] = "/tmp/volt-seccomp-bench.XXXXXX";
    if (!::mkdtemp(dir))
        return 1;
    for (const char* name : {"default", "strict"}) {
        std::string_view text = volt::seccomp::builtin_profile_text(name);
        double t0 = now_us();
        for (int i = 0; i < n; ++i)
            if (!volt::seccomp::compile(text, name, {}))
                return 1;
        double compile_us = (now_us() - t0) / n;
        bool hit = false;
        if (!volt::seccomp::compile_cached(text, name, {}, dir, &hit))  // fills the cache
            return 1;
        t0 = now_us();
        for (int i = 0; i < n; ++i)
            if (!volt::seccomp::compile_cached(text, name, {}, dir, &hit) || !hit)
                return 1;
        double cached_us = (now_us() - t0) / n;
        std::printf("%-8s compile %8.0f us   cache hit %6.0f us   (mean of %d)\n", name, compile_us,
                    cached_us, n);
    }
    (void)volt::fs::remove_tree(dir);
    return 0;
}
