#include "cgroup/cgroup.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sstream>

#include "base/fs.hpp"

namespace volt::cgroup {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_path(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        bool octal = s[i] == '\\' && i + 3 < s.size();
        for (size_t k = 1; octal && k <= 3; ++k)
            octal = s[i + k] >= '0' && s[i + k] <= '7';
        if (octal) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

long long now_ms() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

Status write_file(int dirfd, const char* name, std::string_view value, const std::string& dir) {
    VOLT_TRY_CTX(fs::write_existing(dirfd, name, value), dir);
    return {};
}

}  // namespace

Result<Mounts> parse_mounts(const std::string& mountinfo) {
    Mounts m;
    std::istringstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
        auto sep = line.find(" - ");
        if (sep == std::string::npos)
            continue;
        std::istringstream pre(line.substr(0, sep));
        std::string id, parent, devno, root, mount_point;
        pre >> id >> parent >> devno >> root >> mount_point;
        std::istringstream post(line.substr(sep + 3));
        std::string fstype, source, options;
        post >> fstype >> source >> options;
        mount_point = unescape_mount_path(mount_point);
        if (fstype == "cgroup2") {
            // A pure v2 host mounts it at /sys/fs/cgroup; prefer that over any other.
            if (m.unified.empty() || mount_point == "/sys/fs/cgroup")
                m.unified = mount_point;
        } else if (fstype == "cgroup") {
            std::istringstream opts(options);
            std::string opt;
            while (std::getline(opts, opt, ',')) {
                if (opt == "name=systemd" && m.named_systemd.empty())
                    m.named_systemd = mount_point;
                if (opt == "devices" && m.devices.empty())
                    m.devices = mount_point;
            }
        }
    }
    if (m.unified.empty())
        return Error(ENOENT, "no cgroup2 file system is mounted");
    return m;
}

bool on_cgroup2(const std::string& path) {
    struct statfs st;
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

Result<Mounts> find_mounts(const std::string& unified_override) {
    VOLT_TRY_ASSIGN(std::string text, fs::read_file("/proc/self/mountinfo"));
    auto m = parse_mounts(text);
    if (!unified_override.empty()) {
        Mounts out = m ? *m : Mounts{};
        out.unified = unified_override;
        return out;
    }
    return m;
}

Result<Membership> parse_proc_cgroup(const std::string& text) {
    Membership m;
    bool have_unified = false;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto c1 = line.find(':');
        auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string::npos)
            continue;
        std::string id = line.substr(0, c1);
        std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
        std::string path = line.substr(c2 + 1);
        if (id == "0" && controllers.empty()) {
            m.unified = path;
            have_unified = true;
        } else if (controllers == "name=systemd") {
            m.named_systemd = path;
        } else if (controllers == "devices") {
            m.devices = path;
        }
    }
    if (!have_unified)
        return Error(ENOENT, "no cgroup2 entry in /proc/self/cgroup");
    return m;
}

Result<Membership> self_membership() {
    VOLT_TRY_ASSIGN(std::string text, fs::read_file("/proc/self/cgroup"));
    return parse_proc_cgroup(text);
}

Result<Cgroup> Cgroup::open(const std::string& path) {
    VOLT_TRY_ASSIGN(UniqueFd fd, fs::open_dir(path));
    return Cgroup(path, std::move(fd));
}

Result<Cgroup> Cgroup::create(const std::string& path) {
    VOLT_TRY(fs::mkdir_p(path));
    return open(path);
}

Status Cgroup::attach(pid_t pid) const {
    return write_file(fd_.get(), "cgroup.procs", std::to_string(pid), path_);
}

Status Cgroup::kill() const {
    auto st = fs::write_existing(fd_.get(), "cgroup.kill", "1");
    if (st)
        return {};
    if (st.error().code() != ENOENT)
        return std::move(st).error().context(path_);
    // Before 5.14: freeze so nothing forks while we kill, then kill each process, then thaw so
    // the SIGKILLs are delivered.
    VOLT_TRY(freeze(true));
    auto pids = procs();
    if (pids)
        for (pid_t p : *pids)
            ::kill(p, SIGKILL);
    return freeze(false);
}

namespace {

// A flag of cgroup.events ("populated 1\nfrozen 0\n"): whether the line `key 1` is there.
bool event_set(std::string_view events, std::string_view key) {
    for (std::string_view line : fs::split(events, '\n')) {
        auto w = fs::words(line);
        if (w.size() == 2 && w[0] == key)
            return w[1] == "1";
    }
    return false;
}

}  // namespace

Status Cgroup::freeze(bool frozen, int timeout_ms) const {
    VOLT_TRY(write_file(fd_.get(), "cgroup.freeze", frozen ? "1" : "0", path_));
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        VOLT_TRY_ASSIGN_CTX(std::string events, fs::read_file_at(fd_.get(), "cgroup.events"),
                            path_);
        if (event_set(events, "frozen") == frozen)
            return {};
        if (now_ms() >= deadline)
            return Error(ETIMEDOUT, path_ + ": waiting for " + (frozen ? "frozen 1" : "frozen 0"));
        ::usleep(1000);
    }
}

Result<bool> Cgroup::populated() const {
    VOLT_TRY_ASSIGN_CTX(std::string events, fs::read_file_at(fd_.get(), "cgroup.events"), path_);
    return event_set(events, "populated");
}

Result<bool> Cgroup::frozen() const {
    VOLT_TRY_ASSIGN_CTX(std::string events, fs::read_file_at(fd_.get(), "cgroup.events"), path_);
    return event_set(events, "frozen");
}

Status Cgroup::wait_empty(int timeout_ms) const {
    int fd = ::openat(fd_.get(), "cgroup.events", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(path_ + "/cgroup.events");
    UniqueFd events(fd);
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        char buf[256];
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            return Error::from_errno(path_ + "/cgroup.events");
        if (std::string_view(buf, static_cast<size_t>(n)).find("populated 0") !=
            std::string_view::npos)
            return {};
        long long left = deadline - now_ms();
        if (left <= 0)
            return Error(ETIMEDOUT, path_ + ": processes are still running");
        // cgroupfs signals a change of cgroup.events with POLLPRI.
        pollfd p{fd, POLLPRI, 0};
        ::poll(&p, 1, static_cast<int>(left < 50 ? left : 50));
    }
}

Result<std::vector<pid_t>> Cgroup::procs() const {
    VOLT_TRY_ASSIGN_CTX(std::string text, fs::read_file_at(fd_.get(), "cgroup.procs"), path_);
    std::vector<pid_t> out;
    std::istringstream in(text);
    long p;
    while (in >> p)
        out.push_back(static_cast<pid_t>(p));
    return out;
}

Status create_and_attach(const std::string& path, pid_t pid) {
    VOLT_TRY(fs::mkdir_p(path));
    VOLT_TRY_ASSIGN(UniqueFd fd, fs::open_dir(path));
    return write_file(fd.get(), "cgroup.procs", std::to_string(pid), path);
}

Status create_and_join_v1(const std::string& path) {
    VOLT_TRY(fs::mkdir_p(path));
    VOLT_TRY_ASSIGN(UniqueFd fd, fs::open_dir(path));
    // glibc clears it when the process makes its first thread, and never sets it again.
    return write_file(fd.get(), __libc_single_threaded ? "tasks" : "cgroup.procs", "0", path);
}

Status remove_tree(const std::string& path, int timeout_ms) {
    auto entries = fs::list_dir(path);
    if (!entries) {
        if (entries.error().code() == ENOENT)
            return {};
        return std::move(entries).error();
    }
    for (const auto& name : *entries) {
        std::string child = path + "/" + name;
        struct stat st;
        if (::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            VOLT_TRY(remove_tree(child, timeout_ms));
    }
    long long deadline = now_ms() + timeout_ms;
    while (::rmdir(path.c_str()) < 0) {
        if (errno == ENOENT)
            return {};
        if (errno != EBUSY || now_ms() >= deadline)
            return Error::from_errno("rmdir " + path);
        ::usleep(2000);
    }
    return {};
}

}  // namespace volt::cgroup
