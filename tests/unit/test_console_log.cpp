// The console log `logs` reads without journald: the guest's output, so hostile text of any
// length and any bytes, and a file that a new boot truncates and delete removes.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.hpp"
#include "base/fs.hpp"
#include "runtime/verbs/console_log.hpp"
#include "support.hpp"

using namespace volt;
using runtime::console_text;
using runtime::ConsoleOptions;
using runtime::read_console_log;

namespace {

std::vector<std::string> read_all(const std::string& path, ConsoleOptions o = {}) {
    std::vector<std::string> lines;
    auto st = read_console_log(path, o, -1, [&](std::string_view l) { lines.emplace_back(l); });
    INFO((st ? std::string() : st.error().describe()));
    REQUIRE(st.ok());
    return lines;
}

}  // namespace

TEST_CASE("console_text: the guest's terminal sequences and control characters never pass",
          "[unit]") {
    CHECK(console_text("plain line") == "plain line");
    CHECK(console_text("crlf\r") == "crlf");
    CHECK(console_text("\x1b[0;32m  OK  \x1b[0m Started") == "  OK   Started");
    // A window title (OSC, ended by BEL or ST) and the clipboard (OSC 52) are dropped whole.
    CHECK(console_text("a\x1b]0;pwned\x07"
                       "b") == "ab");
    CHECK(console_text("a\x1b]52;c;ZWNobyBoaQ==\x1b\\b") == "ab");
    // A terminal reset, a cursor save, a charset switch; a DCS string.
    CHECK(console_text("\x1b"
                       "c\x1b"
                       "7x\x1b(B") == "x");
    CHECK(console_text("a\x1bPq#0;2;0;0;0\x1b\\b") == "ab");
    // An unterminated sequence ends the line, it does not eat into the next.
    CHECK(console_text("a\x1b]0;never ended") == "a");
    CHECK(console_text("a\x1b") == "a");
    // Other control bytes, a '\r' inside, bytes that are not UTF-8: escaped. Tabs stay.
    CHECK(console_text("a\rb\x07\x7f") == "a\\rb\\x07\\x7f");
    CHECK(console_text("\xff\x9b"
                       "2J") == "\\xff\\x9b2J");
    CHECK(console_text("col1\tcol2") == "col1\tcol2");
    CHECK(console_text("caf\xc3\xa9") == "caf\xc3\xa9");
}

TEST_CASE("the console log: every line, the last N, a last line without newline, long lines",
          "[unit]") {
    test::TempDir dir;
    std::string log = dir / "console.log";
    REQUIRE(fs::write_file_atomic(log, "one\ntwo\nthree\nfour\n"));
    CHECK(read_all(log) == std::vector<std::string>{"one", "two", "three", "four"});
    CHECK(read_all(log, {.lines = 2}) == std::vector<std::string>{"three", "four"});
    CHECK(read_all(log, {.lines = 0}).empty());
    CHECK(read_all(log, {.lines = 100}).size() == 4);
    REQUIRE(fs::write_file_atomic(log, "one\ntwo\npartial"));
    CHECK(read_all(log, {.lines = 1}) == std::vector<std::string>{"partial"});
    CHECK(read_all(log, {.lines = 2}) == std::vector<std::string>{"two", "partial"});
    REQUIRE(fs::write_file_atomic(log, ""));
    CHECK(read_all(log).empty());
    CHECK(read_all(log, {.lines = 3}).empty());
    REQUIRE(fs::write_file_atomic(log, "\n\n"));
    CHECK(read_all(log) == std::vector<std::string>{"", ""});
    // A guest that never writes a newline: pieces of 64 KiB, not one line of any size.
    std::string huge(200 * 1024, 'x');
    REQUIRE(fs::write_file_atomic(log, huge + "\nend\n"));
    auto lines = read_all(log);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].size() == 64 * 1024);
    CHECK(lines[3].size() == 200 * 1024 - 3 * 64 * 1024);
    CHECK(lines[4] == "end");
}

TEST_CASE("the console log must be a regular file: a symlink or a FIFO is refused, never waited on",
          "[unit]") {
    test::TempDir dir;
    std::string target = dir / "secret", link = dir / "link.log", fifo = dir / "fifo.log";
    REQUIRE(fs::write_file_atomic(target, "host secret\n"));
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto none = [](std::string_view) { FAIL("a line was read"); };
    auto st = read_console_log(link, {}, -1, none);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == ELOOP);
    st = read_console_log(fifo, {.lines = 5}, -1, none);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == EINVAL);
    st = read_console_log(dir / "missing.log", {}, -1, none);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code() == ENOENT);
}

TEST_CASE("following the console log: new lines, a truncation by the next boot, stop and removal",
          "[unit]") {
    test::TempDir dir;
    std::string log = dir / "console.log";
    REQUIRE(fs::write_file_atomic(log, "old 1\nold 2\nold 3\n"));
    UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
    REQUIRE(stop);
    std::vector<std::string> seen;
    std::mutex m;
    // Catch2's assertions are not thread-safe: the followers only record what they returned.
    bool followed = false, ended = false;
    auto count = [&] {
        std::lock_guard g(m);
        return seen.size();
    };
    std::thread follower([&] {
        auto st = read_console_log(log, {.lines = 1, .follow = true}, stop.get(),
                                   [&](std::string_view l) {
                                       std::lock_guard g(m);
                                       seen.emplace_back(l);
                                   });
        followed = st.ok();
    });
    auto wait_for = [&](std::size_t n) {
        for (int i = 0; i < 500 && count() < n; ++i)
            ::usleep(10 * 1000);
        return count();
    };
    REQUIRE(wait_for(1) == 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    REQUIRE(fd >= 0);
    UniqueFd writer(fd);
    REQUIRE(::write(fd, "new 1\nhalf", 10) == 10);
    REQUIRE(wait_for(2) == 2);
    REQUIRE(::write(fd, " done\n", 6) == 6);
    REQUIRE(wait_for(3) == 3);
    // A new boot truncates the log and writes from the start.
    REQUIRE(::ftruncate(fd, 0) == 0);
    REQUIRE(::write(fd, "boot 2\n", 7) == 7);
    REQUIRE(wait_for(4) == 4);
    std::uint64_t one = 1;
    REQUIRE(::write(stop.get(), &one, sizeof one) == sizeof one);
    follower.join();
    CHECK(followed);
    CHECK(seen == std::vector<std::string>{"old 3", "new 1", "half done", "boot 2"});

    // Removed (delete): following ends by itself.
    seen.clear();
    std::thread removed([&] {
        auto st = read_console_log(log, {.lines = std::nullopt, .follow = true}, -1,
                                   [&](std::string_view l) {
                                       std::lock_guard g(m);
                                       seen.emplace_back(l);
                                   });
        ended = st.ok();
    });
    REQUIRE(wait_for(1) == 1);
    REQUIRE(::unlink(log.c_str()) == 0);
    writer.reset();
    removed.join();
    CHECK(ended);
    CHECK(seen == std::vector<std::string>{"boot 2"});
}
