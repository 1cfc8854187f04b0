// seccomp profiles: OCI runtime-spec `linux.seccomp` JSON (with the Docker/containers-common
// fields) compiled to BPF with libseccomp, cached, and installed. See seccomp-profiles/README.md.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace volt::seccomp {

// What a profile is evaluated against: `includes`/`excludes` pick rules by the capabilities of
// the process the filter will bind and by the architecture.
struct Target {
    std::uint64_t caps = ~0ULL;  // effective capability set, bit N = capability N
    std::string kernel_release;  // "6.18.0-…" for minKernel; uname() when empty
};

struct CompileOptions {
    Target target;
    bool unknown_syscalls_warn = false;  // an unknown syscall name: warning instead of error
};

// A compiled filter: the BPF program the kernel runs.
struct Bpf {
    std::vector<sock_filter> insns;
    // Whether the program lets another architecture's (a compat ABI's: x86 and x32 on x86-64)
    // system calls through to its rules. Without, it kills a process making one.
    bool foreign_arches = false;
    bool operator==(const Bpf& o) const;
};

// Parses and compiles a profile for the native architecture (and its compat ones from archMap
// or architectures). Errors name the source and the place ("p.json: syscalls[3].args[0].op:
// unknown operator 'SCMP_CMP_XX'"); an unknown syscall name names the syscall and the profile.
// `warnings` gets one line per skipped unknown syscall when unknown_syscalls_warn is set.
Result<Bpf> compile(std::string_view json_text, const std::string& source,
                    const CompileOptions& options, std::vector<std::string>* warnings = nullptr);

// A profile (allow by default) refusing what systemd-nspawn's built-in filter refuses to a guest
// whose capability bounding set is `bounding` (bit N = capability N): exec'd commands do not
// descend from the guest's init and would otherwise miss that filter. Pure; see nspawn.cpp.
// With foreign_arches false it covers the native architecture alone, which is enough beside a
// container profile that kills the other architectures' calls (Bpf::foreign_arches false): the
// program is a third of the size, and so is its installation on every exec.
std::string nspawn_restrictions_profile(std::uint64_t bounding, bool foreign_arches = true);

// The text of a shipped profile ("default", "strict"), or empty.
std::string_view builtin_profile_text(std::string_view name);

// compile() through a cache directory: the key covers the profile (its digest), libseccomp's
// version, the kernel release, the architecture and the options, and each cache file carries its
// key and a checksum, so a stale or corrupted file is detected and rebuilt. `hit` says which
// happened. `digest` names the profile in the key; profile_digest(json_text) when empty. A cache
// file is written under cache_dir/lock, by whoever gets it at once (the others skip the write),
// which also removes what writes killed before their rename left.
Result<Bpf> compile_cached(std::string_view json_text, const std::string& source,
                           const CompileOptions& options, const std::string& cache_dir,
                           bool* hit = nullptr, const std::string& digest = {});

// What names a profile's text in a cache key: a hash of its bytes and their count. boot records
// it, so that exec finds the compiled filter without reading and hashing the profile again.
std::string profile_digest(std::string_view json_text);

// The digest standing for nspawn_restrictions_profile(bounding), made without generating that
// text: it names the generator's revision (bumped whenever its output changes, which a unit test
// checks) and the bounding set.
std::string nspawn_restrictions_digest(std::uint64_t bounding, bool foreign_arches = true);

// The filter compile_cached stored for the profile named by `digest` and these options, or
// nullopt when the cache has none (or a stale or damaged one). Reads one file; compiles nothing.
std::optional<Bpf> load_cached(const std::string& digest, const CompileOptions& options,
                               const std::string& cache_dir);

// Installs the filter on the calling thread (and what it execs). Async-signal-safe: raw
// syscalls only, so a CLONE_VM child may call it. Uses SECCOMP_FILTER_FLAG_SPEC_ALLOW and retries
// without flags on EINVAL; sets no_new_privs only when the kernel demands it (EACCES: no
// CAP_SYS_ADMIN). Returns 0 or an errno.
int install(const sock_filter* insns, std::size_t count);

}  // namespace volt::seccomp
