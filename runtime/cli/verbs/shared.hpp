// What more than one verb uses: the exit code of an error, the limit options of create and
// update, and a few output helpers.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "cgroup/limits.hpp"
#include "runtime/cli/cli.hpp"

namespace CLI {
class App;
}

namespace volt::cli::verbs {

// Prints "volt-run: <error>" to stderr; returns the exit code for its kind (README "Exit codes").
int fail(const Error& e);
// 0, or fail(st.error()).
int exit_code(const Status& st);

// Prints `j` indented, for --json; returns 0.
int print_json(const nlohmann::json& j);
// A JSON value as one line of text for people: a string as itself, an array as its items'
// texts joined by spaces, anything else as compact JSON. Never throws (bytes that are not UTF-8
// become U+FFFD).
std::string text_of(const nlohmann::json& v);

// The resource limit options, shared by create and update.
void add_limit_options(CLI::App& sub, runtime::ResourceRequest& r);

// "running" or "stopped".
const char* state_word(const runtime::ContainerInfo& c);

// "2026-11-22T17:05:30+0000", in local time; "-" for 0 (never).
std::string local_time(std::uint64_t usec);

// A duration as list shows it: "45s", "12m", "3h12m", "2d4h"; "-" when negative.
std::string uptime_text(std::int64_t seconds);
// How long a running container has run (from its state's start time); nullopt when it is not
// running or the time is not readable.
std::optional<std::int64_t> uptime_seconds(const runtime::ContainerInfo& c);

// A cgroup's counters; null for those it does not have.
nlohmann::json stats_json(const cgroup::Stats& s);

}  // namespace volt::cli::verbs
