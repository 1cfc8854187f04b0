// File-system helpers shared by every module. None of them follows a symlink it did not expect:
// trees are walked with directory fds and O_NOFOLLOW, one component at a time.
#pragma once

#include <sys/types.h>

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::fs {

Result<std::string> read_file(const std::string& path);
// A file volt-run keeps in its data root or run directory (spec, state, leases, policy copies,
// caches), read as a record anybody with access to that directory may have damaged: the last
// component is not followed (ELOOP), a FIFO or device does not block (O_NONBLOCK) and is refused
// like any non-regular file (EINVAL, "not a regular file"), and more than max_bytes is refused
// (EFBIG) rather than read. follow_last: a file the user named (a profile, a policy), where a
// symlink is theirs to use.
Result<std::string> read_record(const std::string& path, std::size_t max_bytes,
                                bool follow_last = false);
// Reads a small file relative to dirfd (for /proc and cgroupfs reads on the hot path).
Result<std::string> read_file_at(int dirfd, const char* name);

enum class Durability { durable, volatile_ok };

// Writes content to path so that readers see either the old or the new file, never a mix:
// a temporary file in the same directory (PATH.tmp.XXXXXX), rename over path. `durable` adds fsync
// of the file and of the directory, so the new content survives a crash; runtime state, which a
// reboot makes meaningless anyway, skips them (they cost ~1 ms of boot on a disk).
Status write_file_atomic(const std::string& path, std::string_view content, mode_t mode = 0644,
                         Durability durability = Durability::durable);

// Removes the temporary files write_file_atomic left for path: those of a writer killed between
// making one and its rename, which nothing else ever removes. Each is path's name + ".tmp." +
// the six letters or digits mkostemp chose, in path's directory; nothing else is touched (a
// missing directory is success). Whether a writer is still at work cannot be told from a file,
// so this is only for a caller that holds the lock every writer of path holds (the container's
// lock for its spec, state, unit and settings files, the network lock for the leases): no
// temporary of a live writer can exist then.
Status remove_temporaries(const std::string& path);

// Removes the lock file path (systemd's kind: an OFD write lock on the whole file, as
// systemd-nspawn takes on a container's root) unless someone holds a lock on it. The lock is
// taken first and the file unlinked while it is held, as systemd's own release_lock_file() does:
// a process about to lock it then finds it unlinked and makes a new one. Nothing there, or not a
// regular file, is success with nothing done.
Status remove_lock_file(const std::string& path);

// Writes all of data to fd (retrying short writes and EINTR); `what` names it in errors.
Status write_all(int fd, std::string_view data, const std::string& what);

// Writes to an existing file (cgroupfs, procfs, sysctl): one write() with the whole value.
Status write_existing(int dirfd, const char* name, std::string_view value);

// mkdir -p; existing directories are fine.
Status mkdir_p(const std::string& path, mode_t mode = 0755);

Result<UniqueFd> open_dir(const std::string& path);

// Removes path and everything below it. Never follows symlinks and never descends into another
// file system (a mount point below path is an EXDEV error, so a forgotten bind mount of host data
// is not emptied). A missing path is success.
Status remove_tree(const std::string& path);

bool exists(const std::string& path);
bool is_directory(const std::string& path);

// Directory entries other than "." and "..", unsorted.
Result<std::vector<std::string>> list_dir(const std::string& path);
// The names in the directory dirfd refers to (without . and ..); dirfd stays open and usable.
Result<std::vector<std::string>> list_dir(int dirfd);

// Splits text at every sep: "a::b" gives {"a", "", "b"}, "" gives {""}.
std::vector<std::string_view> split(std::string_view text, char sep);
// The words of text, separated by any run of spaces, tabs, CRs and newlines ("cpu memory\n").
std::vector<std::string_view> words(std::string_view text);
// The views point into text, so text must outlive them: splitting a temporary string (a
// function's result, `a ? *b : std::string()`) would leave them dangling, and does not compile.
std::vector<std::string_view> split(std::same_as<std::string> auto&& text, char sep) = delete;
std::vector<std::string_view> words(std::same_as<std::string> auto&& text) = delete;

std::string join(std::string_view a, std::string_view b);
std::string dirname(std::string_view path);
std::string basename(std::string_view path);

// Absolute, lexically normalized path (no ".", "..", "//"); relative paths are taken from cwd.
// Symlinks are not resolved.
std::string absolute(std::string_view path);

// An exclusive advisory lock (flock) held for the lifetime of the object. The fd is O_CLOEXEC so
// a process that execs (boot → systemd-nspawn) drops it.
class FileLock {
  public:
    static Result<FileLock> acquire(const std::string& path, bool wait = true);
    int fd() const { return fd_.get(); }
    // Gives the lock up before the object's end.
    void release() { fd_.reset(); }

  private:
    explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

}  // namespace volt::fs
