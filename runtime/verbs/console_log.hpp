// A container's console log (ROOT/run/NAME/console.log, written by `boot --detach`): what `logs`
// reads on a host without journald. The log is the guest's output, so its lines are hostile
// text of any length and any bytes.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace volt::runtime {

// Pure: a console line as it may reach a terminal: terminal control sequences (CSI such as
// colours and cursor moves, OSC such as window titles or the clipboard, other ESC sequences)
// removed, a trailing "\r" of the pty dropped, and every other control character or byte that is
// not UTF-8 escaped (text::printable). Tabs stay.
std::string console_text(std::string_view line);

struct ConsoleOptions {
    std::optional<std::size_t> lines;  // only the last N
    bool follow = false;               // then wait for more until stop_fd is readable
};
// Hands each line of the console log at `path` (raw, without its '\n') to `out`, the last
// `lines` of them when given. The file must be a regular file (not followed if a symlink; ELOOP).
// A line longer than 64 KiB comes in pieces of that size, and -n looks back at most 64 MiB, so a
// guest that never writes a newline costs bounded memory and time. With follow, waits for new
// output (inotify), starts over when the log is truncated (a new boot), and returns normally when
// stop_fd is readable or the log is removed (delete). ENOENT when there is no log.
Status read_console_log(const std::string& path, const ConsoleOptions& options, int stop_fd,
                        const std::function<void(std::string_view)>& out);

}  // namespace volt::runtime
