// Facts about processes read from /proc, and a guard that kills and reaps a child.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::proc {

struct StatFields {
    pid_t ppid = 0;
    // Start time in clock ticks since boot: with the pid it names one process across pid reuse.
    std::uint64_t start_time = 0;
    char state = '?';
};

// Parses the text of /proc/PID/stat (pure; comm may contain spaces and parentheses).
Result<StatFields> parse_stat(const std::string& text);
Result<StatFields> stat(pid_t pid);

// Children of pid's main thread (/proc/PID/task/PID/children).
Result<std::vector<pid_t>> children(pid_t pid);

// The inode of /proc/PID/ns/NAME ("pid", "user", …), to compare namespaces cheaply.
// A capability set of a process from /proc/PID/status: field is "CapEff", "CapBnd", "CapPrm" …
// Bit N is capability N.
Result<std::uint64_t> capabilities(pid_t pid, std::string_view field);
// The same from the text of a status file already read.
std::optional<std::uint64_t> capabilities_from(std::string_view status, std::string_view field);

Result<std::uint64_t> namespace_inode(pid_t pid, const char* name);

// The id outside a user namespace of `id` inside it, by the text of its /proc/PID/uid_map or
// gid_map ("INSIDE OUTSIDE COUNT" lines); nullopt when the map does not cover it.
std::optional<std::uint32_t> map_id(std::string_view map, std::uint32_t id);

// The path of the running executable (/proc/self/exe).
Result<std::string> self_exe();

// A pidfd for pid that is proven to refer to the process that started at start_time: the pidfd
// is opened first, then the start time is checked, so a recycled pid is never signalled.
Result<UniqueFd> open_verified(pid_t pid, std::uint64_t start_time);

// True while the process behind a pidfd has not exited (poll() readiness means it exited).
bool pidfd_alive(int pidfd);

// Waits up to timeout_ms for the process behind a pidfd to exit (it need not be our child).
// Returns true if it exited.
bool pidfd_wait_exit(int pidfd, int timeout_ms);

// Owns a child process: on destruction, if still owned, SIGKILLs and reaps it, so an error path
// never leaves a stray child behind. Assigning another ends the one held before the same way.
class ChildGuard {
  public:
    ChildGuard() = default;
    ChildGuard(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
    ChildGuard(ChildGuard&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}
    ChildGuard& operator=(ChildGuard&& other) noexcept;
    ~ChildGuard() { end(); }

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }
    // Waits for exit and returns the wait status as an exit code (128+N for signal N).
    Result<int> wait();
    // Gives up ownership without killing.
    void release() { pid_ = -1; }

  private:
    void end() noexcept;

    pid_t pid_ = -1;
    UniqueFd pidfd_;
};

// Maps a waitid() result to a shell-style exit code: the exit status, or 128+N for signal N.
int exit_code_of(const siginfo_t& info);

}  // namespace volt::proc
