#include "runtime/cli/verbs/shared.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/text.hpp"

namespace volt::cli::verbs {

int fail(const Error& e) {
    // One line, whatever bytes the values it names hold (text::printable, idempotent).
    std::fprintf(stderr, "volt-run: %s\n", text::printable(e.describe()).c_str());
    switch (e.kind()) {
        case ErrorKind::usage:
            return kExitUsage;
        case ErrorKind::cannot_execute:
            return kExitCannotExecute;
        case ErrorKind::not_found:
            return kExitNotFound;
        case ErrorKind::runtime:
            break;
    }
    return kExitRuntime;
}

int exit_code(const Status& st) {
    return st ? 0 : fail(st.error());
}

std::string text_of(const nlohmann::json& v) {
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_array()) {
        std::string out;
        for (const auto& item : v)
            out.append(out.empty() ? "" : " ").append(text_of(item));
        return out;
    }
    return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int print_json(const nlohmann::json& j) {
    // Strings that are not UTF-8 (from a guest, a damaged file) print with U+FFFD in their place
    // instead of throwing.
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

void add_limit_options(CLI::App& sub, runtime::ResourceRequest& r) {
    sub.add_option("--memory", r.memory, "Memory limit (memory.max), e.g. 512M, 2G");
    sub.add_option("--memory-high", r.memory_high, "Memory throttling point (memory.high)");
    sub.add_option("--memory-swap", r.memory_swap, "Swap limit (memory.swap.max)");
    sub.add_option("--cpus", r.cpus, "CPU bandwidth in CPUs (cpu.max), e.g. 1.5");
    sub.add_option("--cpuset", r.cpuset, "CPUs to run on (cpuset.cpus), e.g. 0-3,6");
    sub.add_option("--cpu-weight", r.cpu_weight, "CPU weight 1-10000 (cpu.weight)");
    sub.add_option("--io-weight", r.io_weight, "I/O weight 1-10000 (io.weight)");
    sub.add_option("--pids-max", r.pids_max, "Maximum number of processes (pids.max)");
}

const char* state_word(const runtime::ContainerInfo& c) {
    if (!c.broken.empty())
        return "broken";
    if (c.running)
        return c.paused ? "paused" : "running";
    return c.leftovers.empty() ? "stopped" : "dead";
}

std::string local_time(std::uint64_t usec) {
    if (usec == 0)
        return "-";
    std::time_t secs = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char date[32], zone[8];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);
    return std::string(date) + zone;
}

std::string uptime_text(std::int64_t seconds) {
    if (seconds < 0)
        return "-";
    const std::int64_t m = seconds / 60, h = m / 60, d = h / 24;
    std::string out;
    if (d > 0)
        out.append(std::to_string(d)).append("d").append(std::to_string(h % 24)).append("h");
    else if (h > 0)
        out.append(std::to_string(h)).append("h").append(std::to_string(m % 60)).append("m");
    else if (m > 0)
        out.append(std::to_string(m)).append("m");
    else
        out.append(std::to_string(seconds)).append("s");
    return out;
}

std::optional<std::int64_t> uptime_seconds(const runtime::ContainerInfo& c) {
    if (!c.running || !c.state)
        return std::nullopt;
    auto started = runtime::parse_utc(c.state->started);
    if (!started)
        return std::nullopt;
    return std::max<std::int64_t>(0, static_cast<std::int64_t>(std::time(nullptr)) - *started);
}

nlohmann::json stats_json(const cgroup::Stats& s) {
    using nlohmann::json;
    auto v = [](const std::optional<std::uint64_t>& x) { return x ? json(*x) : json(nullptr); };
    return {{"memory_current", v(s.memory_current)}, {"memory_peak", v(s.memory_peak)},
            {"oom_kills", v(s.oom_kills)},           {"cpu_usage_usec", v(s.cpu_usage_usec)},
            {"nr_throttled", v(s.nr_throttled)},     {"throttled_usec", v(s.throttled_usec)},
            {"pids_current", v(s.pids_current)}};
}

}  // namespace volt::cli::verbs
