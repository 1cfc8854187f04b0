#include "runtime/verbs/console_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/fd.hpp"
#include "base/text.hpp"

namespace volt::runtime {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr off_t kMaxLookBack = 64 * 1024 * 1024;

bool in(unsigned char c, unsigned char lo, unsigned char hi) {
    return c >= lo && c <= hi;
}

// Where the last `n` lines of the first `size` bytes begin: after the n-th '\n' from the end,
// not counting one that ends the file.
off_t tail_start(int fd, off_t size, std::size_t n) {
    if (n == 0)
        return size;
    const off_t limit = size > kMaxLookBack ? size - kMaxLookBack : 0;
    char buf[64 * 1024];
    std::size_t seen = 0;
    for (off_t pos = size; pos > limit;) {
        auto len = static_cast<std::size_t>(std::min<off_t>(sizeof buf, pos - limit));
        pos -= static_cast<off_t>(len);
        ssize_t got = ::pread(fd, buf, len, pos);
        if (got != static_cast<ssize_t>(len))
            return limit;  // changed under us: read from where looking back ends
        for (std::size_t i = len; i-- > 0;) {
            if (buf[i] != '\n' || pos + static_cast<off_t>(i) == size - 1)
                continue;
            if (++seen == n)
                return pos + static_cast<off_t>(i) + 1;
        }
    }
    return limit;
}

// Reads from offset to the end of the file, handing out each complete line; the rest of a line
// stays in pending (until it reaches kMaxLine).
Status pump(int fd, const std::string& path, off_t& offset, std::string& pending,
            const std::function<void(std::string_view)>& out) {
    char buf[64 * 1024];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("reading " + path);
        if (n == 0)
            return {};
        offset += n;
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        while (!chunk.empty()) {
            auto nl = chunk.find('\n');
            std::size_t take = std::min(nl == std::string_view::npos ? chunk.size() : nl,
                                        kMaxLine - pending.size());
            pending.append(chunk.substr(0, take));
            chunk.remove_prefix(take);
            bool ends = !chunk.empty() && chunk.front() == '\n';
            if (ends)
                chunk.remove_prefix(1);
            if (ends || pending.size() == kMaxLine) {
                out(pending);
                pending.clear();
            }
        }
    }
}

}  // namespace

std::string console_text(std::string_view line) {
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    std::string kept;
    const std::size_t size = line.size();
    for (std::size_t i = 0; i < size;) {
        if (line[i] != '\x1b') {
            kept += line[i++];
            continue;
        }
        if (i + 1 == size)
            break;
        auto c = [&](std::size_t j) { return static_cast<unsigned char>(line[j]); };
        std::size_t j = i + 2;
        switch (line[i + 1]) {
            case '[':  // CSI: parameter and intermediate bytes, then one final byte
                while (j < size && in(c(j), 0x20, 0x3f))
                    ++j;
                if (j < size && in(c(j), 0x40, 0x7e))
                    ++j;
                break;
            case ']':  // OSC, DCS, SOS, PM, APC: a string ended by BEL or ESC '\'
            case 'P':
            case 'X':
            case '^':
            case '_':
                while (j < size && line[j] != '\a' &&
                       !(line[j] == '\x1b' && j + 1 < size && line[j + 1] == '\\'))
                    ++j;
                j = j >= size ? size : j + (line[j] == '\a' ? 1 : 2);
                break;
            default:  // ESC, intermediate bytes, one final byte (ESC c resets the terminal)
                j = i + 1;
                while (j < size && in(c(j), 0x20, 0x2f))
                    ++j;
                if (j < size)
                    ++j;
        }
        i = j;
    }
    // Tabs are the only control character kept as itself.
    std::string out;
    std::size_t from = 0;
    for (auto tab = kept.find('\t'); tab != std::string::npos; tab = kept.find('\t', from)) {
        out.append(text::printable(std::string_view(kept).substr(from, tab - from))).append("\t");
        from = tab + 1;
    }
    return out.append(text::printable(std::string_view(kept).substr(from)));
}

Status read_console_log(const std::string& path, const ConsoleOptions& options, int stop_fd,
                        const std::function<void(std::string_view)>& out) {
    // Watched before the first read, so that nothing written in between is missed.
    UniqueFd watch;
    if (options.follow) {
        int in_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (in_fd < 0)
            return Error::from_errno("inotify_init1");
        watch = UniqueFd(in_fd);
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("opening " + path);
    UniqueFd owner(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0)
        return Error::from_errno("fstat " + path);
    if (!S_ISREG(st.st_mode))
        return Error(EINVAL, path + " is not a regular file");
    if (watch && ::inotify_add_watch(
                     watch.get(), path.c_str(),
                     IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW) < 0)
        return Error::from_errno("watching " + path);

    off_t offset = options.lines ? tail_start(fd, st.st_size, *options.lines) : 0;
    std::string pending;
    VOLT_TRY(pump(fd, path, offset, pending, out));
    while (watch) {
        pollfd fds[2] = {{watch.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
        int ready = ::poll(fds, stop_fd >= 0 ? 2 : 1, -1);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return Error::from_errno("poll");
        if (fds[1].revents)
            break;
        char events[4096];
        while (::read(watch.get(), events, sizeof events) > 0) {
        }
        if (::fstat(fd, &st) < 0)
            return Error::from_errno("fstat " + path);
        if (st.st_nlink == 0)
            break;  // removed (delete): nothing more will come
        if (st.st_size < offset) {
            // Truncated: a new boot writes its console from the start.
            offset = 0;
            pending.clear();
        }
        VOLT_TRY(pump(fd, path, offset, pending, out));
    }
    if (!pending.empty())
        out(pending);
    return {};
}

}  // namespace volt::runtime
