#include "base/proc.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "base/fs.hpp"
#include "base/syscalls.hpp"

namespace volt::proc {

Result<StatFields> parse_stat(const std::string& text) {
    // "PID (COMM) S PPID …": comm is the text between the first '(' and the last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size())
        return Error(EINVAL, "malformed /proc stat line");
    std::istringstream rest(text.substr(close + 2));
    StatFields f;
    std::string field;
    rest >> f.state;
    // Fields after comm start at number 3 (state); starttime is field 22.
    for (int n = 4; n <= 22 && rest >> field; ++n) {
        if (n == 4)
            f.ppid = static_cast<pid_t>(std::strtol(field.c_str(), nullptr, 10));
        if (n == 22)
            f.start_time = std::strtoull(field.c_str(), nullptr, 10);
    }
    if (f.start_time == 0)
        return Error(EINVAL, "malformed /proc stat line");
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
    std::istringstream in(*text);
    long child;
    while (in >> child)
        out.push_back(static_cast<pid_t>(child));
    return out;
}

Result<std::uint64_t> namespace_inode(pid_t pid, const char* name) {
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    struct ::stat st;
    if (::stat(path.c_str(), &st) < 0)
        return Error::from_errno("stat " + path);
    return static_cast<std::uint64_t>(st.st_ino);
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

ChildGuard::~ChildGuard() {
    if (pid_ <= 0 || !pidfd_)
        return;
    (void)sys::pidfd_send_signal(pidfd_.get(), SIGKILL);
    (void)sys::waitid_pidfd(pidfd_.get());
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
    return std::strtoull(std::string(status.substr(at + key.size(), 16)).c_str(), nullptr, 16);
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
