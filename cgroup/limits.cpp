#include "cgroup/limits.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/fd.hpp"
#include "base/fs.hpp"

namespace volt::cgroup {
namespace {

constexpr std::uint64_t kCpuPeriodUs = 100000;

bool has_word(std::string_view list, std::string_view word) {
    for (std::string_view w : fs::words(list))
        if (w == word)
            return true;
    return false;
}

// A counter: decimal digits, then at most the line's end. Anything else ("max", garbage, a number
// beyond 64 bits) is no value, rather than a wrong one such as 0 or 2^64-1.
std::optional<std::uint64_t> counter(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return v;
}

// "key value" lines (cpu.stat, memory.events).
std::optional<std::uint64_t> keyed(const std::string& text, std::string_view key) {
    for (std::string_view line : fs::split(text, '\n'))
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ' ')
            return counter(line.substr(key.size() + 1));
    return std::nullopt;
}

std::optional<std::uint64_t> single(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text)
        return std::nullopt;
    return counter(*text);
}

}  // namespace

std::vector<Setting> render(const Limits& l) {
    std::vector<Setting> out;
    if (l.memory_high)
        out.push_back({"memory", "memory.high", std::to_string(*l.memory_high)});
    if (l.memory_max)
        out.push_back({"memory", "memory.max", std::to_string(*l.memory_max)});
    if (l.memory_swap_max)
        out.push_back({"memory", "memory.swap.max", std::to_string(*l.memory_swap_max)});
    if (l.cpus_milli)
        out.push_back({"cpu", "cpu.max",
                       std::to_string(std::uint64_t{*l.cpus_milli} * kCpuPeriodUs / 1000) + " " +
                           std::to_string(kCpuPeriodUs)});
    if (l.cpu_weight)
        out.push_back({"cpu", "cpu.weight", std::to_string(*l.cpu_weight)});
    if (l.cpuset)
        out.push_back({"cpuset", "cpuset.cpus", *l.cpuset});
    if (l.io_weight)
        out.push_back({"io", "io.weight", "default " + std::to_string(*l.io_weight)});
    if (l.pids_max)
        out.push_back({"pids", "pids.max", std::to_string(*l.pids_max)});
    return out;
}

std::vector<std::string> controllers_of(const std::vector<Setting>& settings) {
    std::vector<std::string> out;
    for (const auto& s : settings)
        if (std::find(out.begin(), out.end(), s.controller) == out.end())
            out.push_back(s.controller);
    return out;
}

Status enable_controllers(const std::string& mount, const std::string& cgroup,
                          const std::vector<std::string>& controllers,
                          std::vector<std::string>& missing, std::string& why) {
    missing.clear();
    why.clear();
    // Only a cgroup below the mount has ancestors there to enable controllers in.
    if (cgroup.size() <= mount.size() + 1 || cgroup.compare(0, mount.size(), mount) != 0 ||
        cgroup[mount.size()] != '/')
        return Error(EINVAL, "cgroup " + cgroup + " is not below the cgroup2 mount " + mount);
    VOLT_TRY_ASSIGN(std::string available, fs::read_file(mount + "/cgroup.controllers"));
    // The ancestors whose subtree_control decides what `cgroup` gets: mount … parent.
    std::vector<std::string> chain = {mount};
    std::string rel = cgroup.substr(mount.size());
    std::string at = mount;
    auto parts = fs::split(rel, '/');
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        if (parts[i].empty())
            continue;
        at.append("/").append(parts[i]);
        chain.push_back(at);
    }
    for (const auto& c : controllers) {
        if (!has_word(available, c)) {
            missing.push_back(c);
            why = "not available on the cgroup2 hierarchy at " + mount;
            continue;
        }
        for (const auto& dir : chain) {
            VOLT_TRY_ASSIGN(std::string enabled, fs::read_file(dir + "/cgroup.subtree_control"));
            if (has_word(enabled, c))
                continue;
            int fd = ::open((dir + "/cgroup.subtree_control").c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0)
                return Error::from_errno("open " + dir + "/cgroup.subtree_control");
            UniqueFd owner(fd);
            std::string word = "+" + c;
            if (::write(fd, word.data(), word.size()) < 0) {
                int err = errno;
                missing.push_back(c);
                why = err == EBUSY ? dir + " has processes of its own, so it cannot pass " + c +
                                         " on (cgroup v2's no-internal-processes rule)"
                                   : "enabling " + c + " in " + dir + ": " + std::strerror(err);
                break;
            }
        }
    }
    return {};
}

Status write_settings(const std::string& cgroup, const std::vector<Setting>& settings) {
    VOLT_TRY_ASSIGN(UniqueFd dir, fs::open_dir(cgroup));
    for (const auto& s : settings)
        VOLT_TRY_CTX(fs::write_existing(dir.get(), s.file.c_str(), s.value),
                     "writing " + s.value + " to " + cgroup + "/" + s.file);
    return {};
}

Stats read_stats(const std::string& cg) {
    Stats s;
    s.memory_current = single(cg + "/memory.current");
    s.memory_peak = single(cg + "/memory.peak");
    if (auto events = fs::read_file(cg + "/memory.events"))
        s.oom_kills = keyed(*events, "oom_kill");
    if (auto cpu = fs::read_file(cg + "/cpu.stat")) {
        s.cpu_usage_usec = keyed(*cpu, "usage_usec");
        s.nr_throttled = keyed(*cpu, "nr_throttled");
        s.throttled_usec = keyed(*cpu, "throttled_usec");
    }
    s.pids_current = single(cg + "/pids.current");
    return s;
}

}  // namespace volt::cgroup
