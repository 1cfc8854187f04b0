#include "base/proc.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <string_view>

#include "base/fs.hpp"
#include "base/syscalls.hpp"

namespace volt::proc {
namespace {

// The whole of text as a number in `base`, or nullopt: no sign, no garbage after it, no value
// out of T's range (strtoul would give 0 or clamp to the maximum without a word).
template <class T>
std::optional<T> whole_number(std::string_view text, int base = 10) {
    T v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return v;
}

}  // namespace

Result<StatFields> parse_stat(const std::string& text) {
    // "PID (COMM) S PPID …": comm is the text between the first '(' and the last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size())
        return Error(EINVAL, "malformed /proc stat line");
    // Fields after comm start at number 3 (state); ppid is field 4, starttime field 22.
    auto fields = fs::words(std::string_view(text).substr(close + 2));
    if (fields.size() < 20 || fields[0].size() != 1)
        return Error(EINVAL, "malformed /proc stat line");
    StatFields f;
    f.state = fields[0][0];
    auto ppid = whole_number<pid_t>(fields[1]);
    auto start = whole_number<std::uint64_t>(fields[19]);
    if (!ppid || !start || *start == 0)
        return Error(EINVAL, "malformed /proc stat line");
    f.ppid = *ppid;
    f.start_time = *start;
    return f;
}

Result<StatFields> stat(pid_t pid) {
    auto text = fs::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text)
        return std::move(text).error();
    return parse_stat(*text);
}

Result<std::vector<pid_t>> children(pid_t pid) {
    std::string p = std::to_string(pid);
    auto text = fs::read_file("/proc/" + p + "/task/" + p + "/children");
    if (!text)
        return std::move(text).error();
    std::vector<pid_t> out;
    for (std::string_view word : fs::words(*text)) {
        auto child = whole_number<pid_t>(word);
        if (!child || *child <= 0)
            return Error(EINVAL, "malformed /proc/" + p + "/task/" + p + "/children");
        out.push_back(*child);
    }
    return out;
}

Result<std::uint64_t> namespace_inode(pid_t pid, const char* name) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    struct ::stat st;
    if (::stat(path.c_str(), &st) < 0)
        return Error::from_errno("stat " + path);
    return static_cast<std::uint64_t>(st.st_ino);
}

std::optional<std::uint32_t> map_id(std::string_view map, std::uint32_t id) {
    for (std::string_view line : fs::split(map, '\n')) {
        auto w = fs::words(line);
        std::uint64_t v[3];
        if (w.size() != 3)
            continue;
        bool ok = true;
        for (int i = 0; i < 3; ++i) {
            auto [end, ec] = std::from_chars(w[i].data(), w[i].data() + w[i].size(), v[i]);
            ok = ok && ec == std::errc() && end == w[i].data() + w[i].size();
        }
        if (ok && id >= v[0] && id - v[0] < v[2] && v[1] + (id - v[0]) <= UINT32_MAX - 1)
            return static_cast<std::uint32_t>(v[1] + (id - v[0]));
    }
    return std::nullopt;
}

Result<std::string> self_exe() {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0)
        return Error::from_errno("readlink /proc/self/exe");
    return std::string(buf, static_cast<size_t>(n));
}

Result<UniqueFd> open_verified(pid_t pid, std::uint64_t start_time) {
    auto fd = sys::pidfd_open(pid);
    if (!fd)
        return std::move(fd).error();
    auto st = stat(pid);
    if (!st || st->start_time != start_time)
        return Error(ESRCH, "process " + std::to_string(pid) + " is gone");
    return std::move(fd).value();
}

bool pidfd_alive(int pidfd) {
    return !pidfd_wait_exit(pidfd, 0);
}

bool pidfd_wait_exit(int pidfd, int timeout_ms) {
    pollfd p{pidfd, POLLIN, 0};
    for (;;) {
        int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        return r > 0;
    }
}

int exit_code_of(const siginfo_t& info) {
    if (info.si_code == CLD_EXITED)
        return info.si_status;
    return 128 + info.si_status;
}

void ChildGuard::end() noexcept {
    if (pid_ <= 0 || !pidfd_)
        return;
    (void)sys::pidfd_send_signal(pidfd_.get(), SIGKILL);
    (void)sys::waitid_pidfd(pidfd_.get());
    pid_ = -1;
}

ChildGuard& ChildGuard::operator=(ChildGuard&& other) noexcept {
    if (this != &other) {
        end();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
    }
    return *this;
}

Result<int> ChildGuard::wait() {
    auto info = sys::waitid_pidfd(pidfd_.get());
    if (!info)
        return std::move(info).error();
    pid_ = -1;
    return exit_code_of(*info);
}

std::optional<std::uint64_t> capabilities_from(std::string_view status, std::string_view field) {
    std::string key = "\n";
    key.append(field).append(":\t");
    size_t at = status.find(key);
    if (at == std::string_view::npos)
        return std::nullopt;
    // Exactly 16 hex digits, then the end of the line.
    std::string_view value = status.substr(at + key.size());
    value = value.substr(0, value.find('\n'));
    if (value.size() != 16)
        return std::nullopt;
    return whole_number<std::uint64_t>(value, 16);
}

Result<std::uint64_t> capabilities(pid_t pid, std::string_view field) {
    auto status = fs::read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status)
        return std::move(status).error();
    auto caps = capabilities_from(*status, field);
    if (!caps)
        return Error(EINVAL,
                     "no " + std::string(field) + " in /proc/" + std::to_string(pid) + "/status");
    return *caps;
}

}  // namespace volt::proc
