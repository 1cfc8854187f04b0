// Reading and evaluating the seccomp filters a process carries, for tests that compare what two
// processes may call: the kernel hands out a process's filters (PTRACE_SECCOMP_GET_FILTER, which
// needs CAP_SYS_ADMIN and a ptrace-stopped tracee), and a small interpreter of classic BPF runs
// them on a syscall as the kernel would.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace volt::test {

using Filter = std::vector<sock_filter>;

// The filters attached to pid, newest first (the kernel's order). Stops the process for the
// moment it takes (PTRACE_SEIZE + PTRACE_INTERRUPT) and detaches. Throws on failure.
std::vector<Filter> seccomp_filters_of(pid_t pid);

// Runs one filter on `data`; throws std::runtime_error on an instruction it does not know, so a
// test can never pass on a program it did not understand.
std::uint32_t run_filter(const Filter& filter, const seccomp_data& data);

// The kernel's verdict for a chain of filters: every filter runs, the most restrictive action
// wins (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW).
std::uint32_t run_chain(const std::vector<Filter>& chain, const seccomp_data& data);

// Whether an action lets the call through (ALLOW, LOG; TRACE and USER_NOTIF count as not).
bool allows(std::uint32_t action);

}  // namespace volt::test
