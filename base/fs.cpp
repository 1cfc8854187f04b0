#include "base/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "base/syscalls.hpp"

namespace volt::fs {
namespace {

// Reads to the end, or to just past `limit` bytes (so that the caller can tell it is too big).
Result<std::string> read_all(int fd, const std::string& what,
                             std::size_t limit = std::numeric_limits<std::size_t>::max()) {
    std::string out;
    char buf[8192];
    while (out.size() <= limit) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("reading " + what);
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

// Empties the directory open at dirfd. dev is the file system the walk must stay on.
Status remove_contents(int dirfd, dev_t dev, const std::string& path) {
    int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return Error::from_errno("dup");
    DIR* dir = ::fdopendir(dup_fd);
    if (!dir) {
        ::close(dup_fd);
        return Error::from_errno("opendir " + path);
    }
    Status status;
    while (status) {
        errno = 0;
        dirent* ent = ::readdir(dir);
        if (!ent) {
            if (errno != 0)
                status = Error::from_errno("readdir " + path);
            break;
        }
        const char* name = ent->d_name;
        if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0)
            continue;
        std::string child = path + "/" + name;
        struct stat st;
        if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            status = Error::from_errno("stat " + child);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) {
                status = Error(EXDEV, "refusing to remove " + child + ", a mount point");
                break;
            }
            int sub = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                status = Error::from_errno("open " + child);
                break;
            }
            UniqueFd sub_fd(sub);
            status = remove_contents(sub_fd.get(), dev, child);
            if (status && ::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                status = Error::from_errno("rmdir " + child);
        } else if (::unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
            status = Error::from_errno("unlink " + child);
        }
    }
    ::closedir(dir);
    return status;
}

}  // namespace

Status write_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("writing " + what);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + path);
    UniqueFd owner(fd);
    return read_all(fd, path);
}

Result<std::string> read_record(const std::string& path, std::size_t max_bytes, bool follow_last) {
    int fd = ::open(path.c_str(),
                    O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow_last ? 0 : O_NOFOLLOW));
    if (fd < 0)
        return Error::from_errno("open " + path);
    UniqueFd owner(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0)
        return Error::from_errno("stat " + path);
    if (!S_ISREG(st.st_mode))
        return Error(EINVAL, path + ": not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return Error(EFBIG, path + ": larger than " + std::to_string(max_bytes) + " bytes");
    VOLT_TRY_ASSIGN(std::string text, read_all(fd, path, max_bytes));
    // Grown since the fstat: still refused.
    if (text.size() > max_bytes)
        return Error(EFBIG, path + ": larger than " + std::to_string(max_bytes) + " bytes");
    return text;
}

Result<std::string> read_file_at(int dirfd, const char* name) {
    int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(std::string("open ") + name);
    UniqueFd owner(fd);
    return read_all(fd, name);
}

Status write_file_atomic(const std::string& path, std::string_view content, mode_t mode,
                         Durability durability) {
    const bool durable = durability == Durability::durable;
    std::string dir = dirname(path);
    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("creating temporary file for " + path);
    UniqueFd owner(fd);
    auto fail = [&](Error e) {
        ::unlink(tmp.c_str());
        return e;
    };
    if (::fchmod(fd, mode) < 0)
        return fail(Error::from_errno("chmod " + tmp));
    if (auto st = write_all(fd, content, tmp); !st)
        return fail(std::move(st).error());
    if (durable && ::fsync(fd) < 0)
        return fail(Error::from_errno("fsync " + tmp));
    owner.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0)
        return fail(Error::from_errno("rename to " + path));
    // Make the rename itself durable.
    if (durable)
        if (auto dfd = open_dir(dir))
            ::fsync(dfd->get());
    return {};
}

Status remove_temporaries(const std::string& path) {
    const std::string dir = dirname(path);
    const std::string prefix = basename(path) + ".tmp.";
    constexpr std::size_t kRandom = 6;  // mkostemp's XXXXXX
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? Status() : Error::from_errno("open " + dir);
    UniqueFd dir_fd(fd);
    VOLT_TRY_ASSIGN(auto names, list_dir(dir_fd.get()));
    for (const auto& n : names) {
        if (n.size() != prefix.size() + kRandom || !n.starts_with(prefix))
            continue;
        if (!std::all_of(n.end() - kRandom, n.end(),
                         [](unsigned char c) { return std::isalnum(c) != 0; }))
            continue;
        struct stat st;
        if (::fstatat(dir_fd.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;  // gone meanwhile, or not a file of ours
        if (::unlinkat(dir_fd.get(), n.c_str(), 0) < 0 && errno != ENOENT)
            return Error::from_errno("unlink " + dir + "/" + n);
    }
    return {};
}

Status remove_lock_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP ? Status() : Error::from_errno("open " + path);
    UniqueFd owner(fd);
    struct stat held;
    if (::fstat(fd, &held) < 0)
        return Error::from_errno("stat " + path);
    if (!S_ISREG(held.st_mode))
        return {};
    struct flock whole {};
    whole.l_type = F_WRLCK;
    whole.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &whole) < 0)
        return errno == EAGAIN || errno == EACCES ? Status() : Error::from_errno("lock " + path);
    // Still the file at path: not unlinked and made again meanwhile by its owner.
    struct stat now;
    if (::lstat(path.c_str(), &now) == 0 && now.st_ino == held.st_ino &&
        now.st_dev == held.st_dev && ::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("unlink " + path);
    return {};
}

Status write_existing(int dirfd, const char* name, std::string_view value) {
    int fd = ::openat(dirfd, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno(std::string("open ") + name);
    UniqueFd owner(fd);
    // Kernel interfaces take the value in one write(); a short write is an error, not a retry.
    ssize_t n = ::write(fd, value.data(), value.size());
    if (n < 0)
        return Error::from_errno(std::string("write ") + name);
    if (static_cast<size_t>(n) != value.size())
        return Error(EIO, std::string("short write to ") + name);
    return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty())
        return Error(EINVAL, "mkdir of an empty path");
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty() || cur == "/")
            continue;
        if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST)
            return Error::from_errno("mkdir " + cur);
    }
    if (!is_directory(path))
        return Error(ENOTDIR, path);
    return {};
}

Result<UniqueFd> open_dir(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + path);
    return UniqueFd(fd);
}

Status remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT)
            return {};
        return Error::from_errno("stat " + path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) < 0 && errno != ENOENT)
            return Error::from_errno("unlink " + path);
        return {};
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("open " + path);
    UniqueFd dir(fd);
    VOLT_TRY(remove_contents(dir.get(), st.st_dev, path));
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT)
        return Error::from_errno("rmdir " + path);
    return {};
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {

// Reads and closes dir.
Result<std::vector<std::string>> read_names(DIR* dir, const std::string& what) {
    std::vector<std::string> names;
    errno = 0;
    while (dirent* ent = ::readdir(dir)) {
        if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0)
            names.emplace_back(ent->d_name);
    }
    int err = errno;
    ::closedir(dir);
    if (err != 0)
        return Error(err, "readdir " + what);
    return names;
}

}  // namespace

Result<std::vector<std::string>> list_dir(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (!dir)
        return Error::from_errno("opendir " + path);
    return read_names(dir, path);
}

Result<std::vector<std::string>> list_dir(int dirfd) {
    // fdopendir takes the fd over; give it a duplicate so the caller's stays open.
    int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return Error::from_errno("dup");
    // A duplicate shares the file offset: start from the beginning whatever was read before.
    ::lseek(dup_fd, 0, SEEK_SET);
    DIR* dir = ::fdopendir(dup_fd);
    if (!dir) {
        ::close(dup_fd);
        return Error::from_errno("fdopendir");
    }
    return read_names(dir, "fd " + std::to_string(dirfd));
}

std::vector<std::string_view> words(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    std::vector<std::string_view> out;
    size_t start = text.find_first_not_of(kSpace);
    while (start != std::string_view::npos) {
        size_t end = text.find_first_of(kSpace, start);
        out.push_back(text.substr(start, end - start));
        start = end == std::string_view::npos ? end : text.find_first_not_of(kSpace, end);
    }
    return out;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    size_t pos = 0;
    for (;;) {
        size_t at = text.find(sep, pos);
        if (at == std::string_view::npos) {
            parts.push_back(text.substr(pos));
            return parts;
        }
        parts.push_back(text.substr(pos, at - pos));
        pos = at + 1;
    }
}

std::string join(std::string_view a, std::string_view b) {
    if (a.empty())
        return std::string(b);
    std::string out(a);
    if (out.back() != '/')
        out += '/';
    while (!b.empty() && b.front() == '/')
        b.remove_prefix(1);
    out += b;
    return out;
}

std::string dirname(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos)
        return ".";
    if (slash == 0)
        return "/";
    return std::string(path.substr(0, slash));
}

std::string basename(std::string_view path) {
    auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string absolute(std::string_view path) {
    std::string input(path);
    if (input.empty() || input[0] != '/') {
        char* cwd = ::getcwd(nullptr, 0);
        input = std::string(cwd ? cwd : "/") + "/" + input;
        std::free(cwd);
    }
    std::vector<std::string_view> parts;
    std::string_view rest(input);
    while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string_view part = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (part.empty() || part == ".")
            continue;
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    for (auto p : parts) {
        out += '/';
        out += p;
    }
    return out.empty() ? "/" : out;
}

Result<FileLock> FileLock::acquire(const std::string& path, bool wait) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return Error::from_errno("open lock " + path);
    UniqueFd owner(fd);
    while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
        if (errno == EINTR)
            continue;
        return Error::from_errno("lock " + path);
    }
    return FileLock(std::move(owner));
}

}  // namespace volt::fs
