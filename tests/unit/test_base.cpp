#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "base/fs.hpp"
#include "base/proc.hpp"
#include "base/steps.hpp"
#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "cgroup/cgroup.hpp"
#include "support.hpp"

using namespace volt;

TEST_CASE("errors carry errno and a context chain on one line", "[unit]") {
    Error e(EEXIST, "creating veth ve-web1");
    Error wrapped = std::move(e).context("setting up network").context("booting web1");
    CHECK(wrapped.describe() ==
          "booting web1: setting up network: creating veth ve-web1: File exists");
    CHECK(wrapped.code() == EEXIST);
    CHECK(wrapped.kind() == ErrorKind::runtime);
    CHECK(Error::usage("bad").describe() == "bad");
    CHECK(Error::usage("bad").kind() == ErrorKind::usage);

    Result<int> r = Error(ENOENT, "x");
    CHECK_FALSE(r.ok());
    Result<int> v = 5;
    CHECK(*v == 5);
}

namespace {
Result<int> parse_digit(char c) {
    if (c < '0' || c > '9')
        return Error(EINVAL, std::string("not a digit: ") + c);
    return c - '0';
}
Result<int> sum_of_digits(const char* s, bool with_context) {
    int sum = 0;
    for (; *s; ++s) {
        if (with_context) {
            VOLT_TRY_ASSIGN_CTX(int d, parse_digit(*s), "summing");
            sum += d;
        } else {
            VOLT_TRY_ASSIGN(const int d, parse_digit(*s));
            sum += d;
        }
    }
    return sum;
}
}  // namespace

TEST_CASE("VOLT_TRY_ASSIGN binds the value or returns the error", "[unit]") {
    CHECK(*sum_of_digits("123", false) == 6);
    CHECK(*sum_of_digits("123", true) == 6);
    auto bad = sum_of_digits("12x", false);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().describe() == "not a digit: x: Invalid argument");
    auto bad_ctx = sum_of_digits("1x", true);
    REQUIRE_FALSE(bad_ctx);
    CHECK(bad_ctx.error().describe() == "summing: not a digit: x: Invalid argument");
}

TEST_CASE("Steps undo exactly what ran, last first, when a later step fails", "[unit]") {
    for (int fail_at = 0; fail_at <= 4; ++fail_at) {
        CAPTURE(fail_at);
        std::vector<std::string> log;
        Status result;
        {
            Steps steps;
            for (int k = 0; k < 4 && result; ++k) {
                std::string name = "s";
                name += std::to_string(k);
                result = steps.run(
                    name,
                    [&]() -> Status {
                        if (k == fail_at)
                            return Error(EIO, name + " failed");
                        log.push_back("do " + name);
                        return {};
                    },
                    [&log, name] { log.push_back("undo " + name); });
            }
            if (result)
                steps.commit();
        }
        std::vector<std::string> want;
        for (int k = 0; k < std::min(fail_at, 4); ++k)
            want.push_back("do s" + std::to_string(k));
        for (int k = std::min(fail_at, 4) - 1; fail_at < 4 && k >= 0; --k)
            want.push_back("undo s" + std::to_string(k));
        CHECK(log == want);
        CHECK(result.ok() == (fail_at == 4));
    }
}

TEST_CASE(
    "Steps: an uncommitted run is undone when it goes out of scope, and a hook can fail a step",
    "[unit]") {
    std::vector<std::string> log;
    {
        Steps steps([](std::string_view name) -> Status {
            if (name == "third")
                return Error(EIO, "injected before third");
            return {};
        });
        REQUIRE(steps.run(
            "first", [] { return Status(); }, [&] { log.push_back("undo first"); }));
        auto second = steps.run<int>(
            "second", [] { return Result<int>(7); },
            [&](const int& v) { log.push_back("undo second " + std::to_string(v)); });
        REQUIRE(second);
        CHECK(steps.names() == std::vector<std::string>{"first", "second"});
        bool ran_third = false;
        auto third = steps.run("third", [&] {
            ran_third = true;
            return Status();
        });
        CHECK_FALSE(third);
        CHECK_FALSE(ran_third);
        CHECK(log == std::vector<std::string>{"undo second 7", "undo first"});
        log.clear();
        REQUIRE(steps.run(
            "fourth", [] { return Status(); }, [&] { log.push_back("undo fourth"); }));
    }
    CHECK(log == std::vector<std::string>{"undo fourth"});
}

TEST_CASE("UniqueFd closes once and moves ownership", "[unit]") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        UniqueFd a(raw);
        UniqueFd b(std::move(a));
        CHECK_FALSE(a.valid());
        CHECK(b.get() == raw);
        CHECK(::fcntl(raw, F_GETFD) >= 0);
    }
    CHECK(::fcntl(raw, F_GETFD) == -1);
    CHECK(errno == EBADF);
}

// A child of ours that waits to be ended, and its guard.
proc::ChildGuard waiting_child() {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    auto pidfd = sys::pidfd_open(pid);
    REQUIRE(pidfd.ok());
    return proc::ChildGuard(pid, std::move(pidfd).value());
}

// Whether pid is still a child of ours, exited or not (reaped: it is not).
bool is_our_child(pid_t pid) {
    siginfo_t si{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

TEST_CASE("ChildGuard ends its child when destroyed or replaced, and not when moved or released",
          "[unit]") {
    proc::ChildGuard first = waiting_child();
    const pid_t a = first.pid();
    proc::ChildGuard moved(std::move(first));  // the same child, owned once
    CHECK(first.pid() == -1);
    CHECK(is_our_child(a));
    moved = waiting_child();  // the one held before is killed and reaped
    CHECK_FALSE(is_our_child(a));
    const pid_t b = moved.pid();
    CHECK(is_our_child(b));
    { proc::ChildGuard gone = std::move(moved); }
    CHECK_FALSE(is_our_child(b));

    proc::ChildGuard kept = waiting_child();
    const pid_t c = kept.pid();
    kept.release();
    kept = proc::ChildGuard();
    CHECK(test::process_alive(c));
    ::kill(c, SIGKILL);
    ::waitpid(c, nullptr, 0);
}

TEST_CASE("/proc stat lines with awkward command names", "[unit]") {
    auto f = proc::parse_stat(
        "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 "
        "18446744073709551615");
    REQUIRE(f.ok());
    CHECK(f->ppid == 7);
    CHECK(f->state == 'S');
    CHECK(f->start_time == 123456);
    CHECK_FALSE(proc::parse_stat("garbage").ok());
    // A field that is not a whole number in range is malformed, never read as 0 or clamped.
    const std::string head = "42 (sh) S ", tail = " 1 0 123456 1000";
    const std::string middle = " 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0";
    CHECK(proc::parse_stat(head + "7" + middle + tail).ok());
    for (const char* ppid : {"x", "7x", "-", "99999999999"})
        CHECK_FALSE(proc::parse_stat(head + ppid + middle + tail).ok());
    CHECK_FALSE(proc::parse_stat(head + "7" + middle + " 1 0 99999999999999999999 1000").ok());
    CHECK_FALSE(proc::parse_stat(head + "7 42 42").ok());
    // Capability sets: 16 hex digits exactly.
    CHECK(proc::capabilities_from("Name:\tsh\nCapEff:\t000001ffffffffff\n", "CapEff") ==
          0x000001ffffffffffULL);
    for (const char* bad : {"ffffffffffffffff0", "00000000000000zz", "1ff", ""})
        CHECK_FALSE(
            proc::capabilities_from(std::string("Name:\tsh\nCapEff:\t") + bad + "\n", "CapEff"));
    auto self = proc::stat(::getpid());
    REQUIRE(self.ok());
    CHECK(self->ppid == ::getppid());
}

TEST_CASE("lexical path normalization", "[unit]") {
    CHECK(fs::absolute("/a/./b//c/") == "/a/b/c");
    CHECK(fs::absolute("/a/../../b") == "/b");
    CHECK(fs::absolute("/") == "/");
    CHECK(fs::absolute("x").front() == '/');
    CHECK(fs::dirname("/a/b") == "/a");
    CHECK(fs::dirname("/a") == "/");
    CHECK(fs::basename("/a/b.service") == "b.service");
    CHECK(fs::join("/a/", "/b") == "/a/b");
}

TEST_CASE("splitting keeps empty fields", "[unit]") {
    using V = std::vector<std::string_view>;
    CHECK(fs::split("a::b", ':') == V{"a", "", "b"});
    CHECK(fs::split("", ':') == V{""});
    CHECK(fs::split(":x:", ':') == V{"", "x", ""});
    CHECK(fs::words(" cpu\tmemory  pids\n") == V{"cpu", "memory", "pids"});
    CHECK(fs::words(" \n").empty());
}

TEST_CASE("listing a directory by path and by fd", "[unit]") {
    test::TempDir dir;
    REQUIRE(fs::write_file_atomic(dir / "one", "1").ok());
    REQUIRE(fs::mkdir_p(dir / "two").ok());
    auto by_path = fs::list_dir(dir.path());
    REQUIRE(by_path.ok());
    std::sort(by_path->begin(), by_path->end());
    CHECK(*by_path == std::vector<std::string>{"one", "two"});
    auto fd = fs::open_dir(dir.path());
    REQUIRE(fd.ok());
    for (int round = 0; round < 2; ++round) {  // the fd stays usable, and lists again
        auto by_fd = fs::list_dir(fd->get());
        REQUIRE(by_fd.ok());
        CHECK(by_fd->size() == 2);
    }
    CHECK_FALSE(fs::list_dir(dir / "missing").ok());
}

TEST_CASE("atomic writes replace the file and leave no temporary behind", "[unit]") {
    test::TempDir dir;
    std::string path = dir / "spec.json";
    REQUIRE(fs::write_file_atomic(path, "one", 0600).ok());
    REQUIRE(fs::write_file_atomic(path, "two", 0600).ok());
    CHECK(*fs::read_file(path) == "two");
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(test::tree(dir.path()) == std::vector<std::string>{"spec.json"});
    CHECK_FALSE(fs::write_file_atomic(dir / "missing/x", "y").ok());
}

TEST_CASE("remove_temporaries removes a killed write's leftovers of one file and nothing else",
          "[unit]") {
    test::TempDir dir;
    REQUIRE(fs::write_file_atomic(dir / "spec.json", "{}").ok());
    // What write_file_atomic makes for spec.json: its name, ".tmp.", six letters or digits.
    for (const char* leftover : {"spec.json.tmp.AbC123", "spec.json.tmp.000000"})
        REQUIRE(fs::write_file_atomic(dir / leftover, "half").ok());
    const std::vector<std::string> kept = {"other.json.tmp.AbC123",   // another file's
                                           "spec.json",               // the file itself
                                           "spec.json.tmp.Ab-123",    // not mkostemp's letters
                                           "spec.json.tmp.AbC12",     // too short
                                           "spec.json.tmp.AbC1234",   // too long
                                           "spec.json.tmp.AbC123.x",  // another file's name
                                           "xspec.json.tmp.AbC123"};
    for (const auto& k : kept)
        if (k != "spec.json")
            REQUIRE(fs::write_file_atomic(dir / k, "keep").ok());
    REQUIRE(fs::mkdir_p(dir / "spec.json.tmp.subdir").ok());  // not a file: never ours
    REQUIRE(fs::remove_temporaries(dir / "spec.json").ok());
    std::vector<std::string> expected = kept;
    expected.push_back("spec.json.tmp.subdir");
    std::sort(expected.begin(), expected.end());
    CHECK(test::tree(dir.path()) == expected);
    CHECK(fs::remove_temporaries(dir / "missing/spec.json").ok());  // no directory: nothing
}

TEST_CASE("remove_tree never follows symlinks out of the tree", "[unit]") {
    test::TempDir outside, dir;
    REQUIRE(fs::write_file_atomic(outside / "keep", "precious").ok());
    REQUIRE(fs::mkdir_p(dir / "a/b/c").ok());
    REQUIRE(::symlink(outside.path().c_str(), (dir / "a/b/link").c_str()) == 0);
    REQUIRE(fs::write_file_atomic(dir / "a/b/c/f", "x").ok());
    REQUIRE(fs::remove_tree(dir / "a").ok());
    CHECK_FALSE(fs::exists(dir / "a"));
    CHECK(*fs::read_file(outside / "keep") == "precious");
    CHECK(fs::remove_tree(dir / "never-existed").ok());
}

TEST_CASE("cgroup mounts found in mountinfo", "[unit]") {
    const char* hybrid =
        "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
        "31 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
        "32 31 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
        "33 31 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "34 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "35 31 0:30 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n";
    auto m = cgroup::parse_mounts(hybrid);
    REQUIRE(m.ok());
    CHECK(m->unified == "/sys/fs/cgroup/unified");
    CHECK(m->named_systemd == "/sys/fs/cgroup/systemd");
    CHECK(m->devices == "/sys/fs/cgroup/devices");

    const char* pure =
        "40 30 0:40 / /run/x\\040y rw - cgroup2 cgroup2 rw\n"
        "41 30 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    m = cgroup::parse_mounts(pure);
    REQUIRE(m.ok());
    CHECK(m->unified == "/sys/fs/cgroup");
    CHECK(m->named_systemd.empty());
    CHECK(m->devices.empty());
    CHECK(cgroup::parse_mounts("40 30 0:40 / /run/x\\040y rw - cgroup2 cgroup2 rw\n")->unified ==
          "/run/x y");
    CHECK_FALSE(cgroup::parse_mounts("25 30 0:23 / /sys rw - sysfs sysfs rw\n").ok());
}

TEST_CASE("/proc/PID/cgroup membership", "[unit]") {
    auto m = cgroup::parse_proc_cgroup(
        "9:name=systemd:/volt.slice/x\n8:pids:/\n5:devices:/d\n4:memory:/process_api/ee8\n"
        "0::/volt.slice/x\n");
    REQUIRE(m.ok());
    CHECK(m->unified == "/volt.slice/x");
    CHECK(m->named_systemd == "/volt.slice/x");
    CHECK(m->devices == "/d");
    m = cgroup::parse_proc_cgroup("0::/\n");
    REQUIRE(m.ok());
    CHECK(m->unified == "/");
    CHECK(m->named_systemd.empty());
    CHECK_FALSE(cgroup::parse_proc_cgroup("4:memory:/x\n").ok());
}

TEST_CASE("printable: one line of valid UTF-8, whatever the bytes", "[unit]") {
    CHECK(text::printable("web") == "web");
    CHECK(text::printable("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 stays as it is
    CHECK(text::printable("a\nb\x1b") == "a\\nb\\x1b");
    CHECK(text::printable("im\xff") == "im\\xff");
    CHECK(text::printable("\xc3") == "\\xc3");                    // cut off
    CHECK(text::printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate
    CHECK(text::valid_utf8(text::printable("\xff\xfe\x80 \xc0\xaf")));
}

TEST_CASE("map_id maps an id through a user namespace's uid_map", "[unit]") {
    const std::string map = "         0     524288      65536\n     65536    1000000          1\n";
    CHECK(proc::map_id(map, 0) == 524288u);
    CHECK(proc::map_id(map, 65535) == 524288u + 65535u);
    CHECK(proc::map_id(map, 65536) == 1000000u);
    CHECK_FALSE(proc::map_id(map, 65537));
    CHECK(proc::map_id("0 0 4294967295\n", 1000) == 1000u);
    CHECK_FALSE(proc::map_id("0 4294967295 1\n", 0));  // would be (uid_t)-1
    CHECK_FALSE(proc::map_id("garbage\n0 x 1\n", 0));
    CHECK_FALSE(proc::map_id("", 0));
}
