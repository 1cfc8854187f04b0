// Resource limits written straight to cgroup v2 files: the values, the files they go to (a pure
// function, tested on its own), and applying them to a live cgroup, failing closed when a
// controller is missing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace volt::cgroup {

struct Limits {
    std::optional<std::uint64_t> memory_max;       // bytes (memory.max)
    std::optional<std::uint64_t> memory_high;      // bytes (memory.high)
    std::optional<std::uint64_t> memory_swap_max;  // bytes (memory.swap.max)
    std::optional<std::uint32_t> cpus_milli;       // 1500 = 1.5 CPUs (cpu.max)
    std::optional<std::string> cpuset;             // "0-3,6" (cpuset.cpus)
    std::optional<std::uint32_t> cpu_weight;       // 1..10000 (cpu.weight)
    std::optional<std::uint32_t> io_weight;        // 1..10000 (io.weight)
    std::optional<std::uint64_t> pids_max;         // pids.max
    bool operator==(const Limits&) const = default;
    bool empty() const { return *this == Limits{}; }
};

struct Setting {
    std::string controller;  // "memory", "cpu", …
    std::string file;        // "memory.max"
    std::string value;       // what is written
    bool operator==(const Setting&) const = default;
};

// Pure: the files and values for a set of limits, in a fixed order (memory, cpu, cpuset, io,
// pids). --cpus 1.5 gives cpu.max "150000 100000" (100 ms period).
std::vector<Setting> render(const Limits& limits);

// The controllers of cgroup2 that `settings` need, in order, without repeats.
std::vector<std::string> controllers_of(const std::vector<Setting>& settings);

// Makes the controllers available in `cgroup` (absolute path below `mount`): each one is
// enabled in cgroup.subtree_control of every ancestor from the mount down to the parent, where
// it is not already. A controller the hierarchy does not have at all, or that cannot be enabled
// (a parent with processes of its own: the no-internal-processes rule) is returned in
// `missing` rather than an error, so that the caller decides (fail closed, or go on).
Status enable_controllers(const std::string& mount, const std::string& cgroup,
                          const std::vector<std::string>& controllers,
                          std::vector<std::string>& missing, std::string& why);

// Writes the settings to the cgroup's files.
Status write_settings(const std::string& cgroup, const std::vector<Setting>& settings);

// Counters for `stats` and `inspect` (absent files stay unset).
struct Stats {
    std::optional<std::uint64_t> memory_current, memory_peak, oom_kills;
    std::optional<std::uint64_t> cpu_usage_usec, nr_throttled, throttled_usec;
    std::optional<std::uint64_t> pids_current;
};
Stats read_stats(const std::string& cgroup);

}  // namespace volt::cgroup
