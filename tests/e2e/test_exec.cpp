// exec as a user types it: -it through a real pty, --user, --detach, and no command left behind
// when volt-run exec itself is killed.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// A booted busybox container of the sandbox's, named after base.
std::string booted(const test::Sandbox& sb, const std::string& base) {
    const std::string name = sb.unique_name(base);
    test::boot_busybox(sb, name);
    return name;
}

// volt-run ARGS with a real terminal as its stdin, stdout and stderr: the slave of a pty this
// test holds the master of, as a terminal emulator would; the terminal is volt-run's
// controlling terminal and volt-run its foreground process.
class OnTerminal {
  public:
    OnTerminal(const test::Sandbox& sb, const std::vector<std::string>& args, winsize size) {
        REQUIRE(::openpty(&master_, &slave_, nullptr, nullptr, &size) == 0);
        REQUIRE(::tcgetattr(slave_, &before_) == 0);
        std::vector<std::string> argv = {test::volt_run_binary()};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<std::string> env = test::environment_with(sb.env());
        std::vector<char*> cargv, cenv;
        for (auto& a : argv)
            cargv.push_back(a.data());
        cargv.push_back(nullptr);
        for (auto& e : env)
            cenv.push_back(e.data());
        cenv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setsid();
            ::ioctl(slave_, TIOCSCTTY, 0);
            for (int fd = 0; fd < 3; ++fd)
                ::dup2(slave_, fd);
            ::close(master_);
            ::close(slave_);
            ::execve(cargv[0], cargv.data(), cenv.data());
            ::_exit(127);
        }
        REQUIRE(pid_ > 0);
    }
    ~OnTerminal() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(master_);
        ::close(slave_);
    }
    OnTerminal(const OnTerminal&) = delete;
    OnTerminal& operator=(const OnTerminal&) = delete;

    void type(const std::string& keys) const {
        REQUIRE(fs::write_all(master_, keys, "the terminal").ok());
    }
    // Reads what the terminal shows until `marker` appears (or 30 s pass); returns all of it.
    std::string read_until(const std::string& marker) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (screen_.find(marker) == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, 200) == 1) {
                char buf[4096];
                ssize_t n = ::read(master_, buf, sizeof buf);
                if (n <= 0)
                    break;
                screen_.append(buf, static_cast<size_t>(n));
            }
        }
        INFO(screen_);
        REQUIRE(screen_.find(marker) != std::string::npos);
        return screen_;
    }
    // Its exit code once it exited (waiting up to 30 s).
    int wait() {
        for (int i = 0; i < 300; ++i) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        FAIL("volt-run exec did not exit");
        return -1;
    }
    void resize(winsize size) const { REQUIRE(::ioctl(master_, TIOCSWINSZ, &size) == 0); }
    termios settings() const {
        termios t{};
        REQUIRE(::tcgetattr(slave_, &t) == 0);
        return t;
    }
    const termios& before() const { return before_; }

  private:
    int master_ = -1, slave_ = -1;
    pid_t pid_ = -1;
    termios before_{};
    std::string screen_;
};

// Whether `ps` in the container lists a process whose command line is `command`.
bool container_runs(const test::Sandbox& sb, const std::string& name, const std::string& command) {
    auto r = sb.volt({"exec", name, "--", "ps", "-o", "args"});
    REQUIRE(r.code == 0);
    for (std::string_view line : fs::split(r.out, '\n'))
        if (line == command)
            return true;
    return false;
}

}  // namespace

TEST_CASE("exec -it: a pty of the container's own, raw mode restored, window size followed",
          "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = booted(sb, "tty");
    OnTerminal term(sb, {"exec", "-it", name}, winsize{33, 101, 0, 0});
    // No command: root's shell from the container's passwd, on /dev/pts/N of its devpts.
    term.type("tty; stty size; echo one-$((6*7))\r");
    std::string screen = term.read_until("one-42");
    CHECK(screen.find("/dev/pts/") != std::string::npos);
    CHECK(screen.find("33 101") != std::string::npos);
    // While it runs the caller's terminal is raw: no echo, no line editing of its own.
    CHECK_FALSE(term.settings().c_lflag & (ICANON | ECHO));
    // A new window size reaches the command (SIGWINCH to volt-run, TIOCSWINSZ on the pty).
    term.resize(winsize{40, 120, 0, 0});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    term.type("stty size; echo two-$((6*7))\r");
    CHECK(term.read_until("two-42").find("40 120") != std::string::npos);
    // Ctrl-C is a key for the command, not a signal for volt-run: the shell survives it.
    term.type("\x03");
    term.type("exit 7\r");
    CHECK(term.wait() == 7);
    termios after = term.settings();
    CHECK(after.c_lflag == term.before().c_lflag);
    CHECK(after.c_iflag == term.before().c_iflag);
    CHECK(after.c_oflag == term.before().c_oflag);
    REQUIRE(sb.volt({"stop", name}).code == 0);
}

TEST_CASE("exec -t without -i: the command has a terminal, the caller's stays as it was", "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = booted(sb, "ttyo");
    // The pty belongs to the user the command runs as, inside the container's user namespace.
    OnTerminal term(sb,
                    {"exec", "-t", "--user", "nobody", name, "--", "sh", "-c",
                     "stat -c owner=%u $(tty); [ -t 0 ] && echo stdin-is-a-tty"},
                    winsize{24, 80, 0, 0});
    std::string screen = term.read_until("stdin-is-a-tty");
    CHECK(screen.find("owner=65534") != std::string::npos);
    CHECK(term.wait() == 0);
    CHECK(term.settings().c_lflag == term.before().c_lflag);
    // Without -t there is no terminal, and stdin passes through.
    auto r = sb.volt({"exec", name, "--", "sh", "-c", "[ -t 0 ] || cat"});
    CHECK(r.code == 0);
    REQUIRE(sb.volt({"stop", name}).code == 0);
}

TEST_CASE("exec --user: ids, groups, HOME and USER from the container's own files", "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = booted(sb, "user");
    auto r =
        sb.volt({"exec", "--user", "nobody", name, "--", "sh", "-c",
                 "id -u; id -g; id -G; echo $HOME $USER; cat /proc/self/status | grep CapEff"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out == "65534\n65534\n65534\n/ nobody\nCapEff:\t0000000000000000\n");
    r = sb.volt({"exec", "-u", "1234:55", name, "--", "sh", "-c", "id -u; id -g; id -G"});
    CHECK(r.out == "1234\n55\n55\n");
    // The user's permissions apply from the start: a root-only directory cannot be entered.
    REQUIRE(sb.volt({"exec", name, "--", "mkdir", "-m", "700", "/tmp/private"}).code == 0);
    r = sb.volt({"exec", "-u", "nobody", "-w", "/tmp/private", name, "--", "true"});
    CHECK(r.code == 125);
    CHECK(r.err.find("--workdir /tmp/private") != std::string::npos);
    r = sb.volt({"exec", "-u", "nosuchuser", name, "--", "id"});
    CHECK(r.code == 2);
    CHECK(r.err ==
          "volt-run: --user: invalid value 'nosuchuser': no user 'nosuchuser' in the "
          "container's /etc/passwd\n");
    REQUIRE(sb.volt({"stop", name}).code == 0);
}

TEST_CASE("exec's command dies with a killed volt-run exec, unless --detach", "[e2e]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = booted(sb, "linger");
    {
        test::Background exec(sb, {"exec", name, "--", "sleep", "4711"});
        bool started = false;
        for (int i = 0; i < 100 && !started; ++i) {
            started = container_runs(sb, name, "sleep 4711");
            if (!started)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        REQUIRE(started);
        REQUIRE(::kill(exec.pid(), SIGKILL) == 0);
        CHECK(exec.wait(10000) == 128 + SIGKILL);
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = !container_runs(sb, name, "sleep 4711");
            if (!gone)
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        CHECK(gone);
        // The killed command's parent died, so it is this test's (the subreaper's) to reap, as
        // it would be the host init's: until then its pid namespace, and a stop, wait for it.
        (void)test::process_alive(exec.pid());
    }
    // --detach returns at once and leaves the command to the container.
    auto r = sb.volt({"exec", "--detach", name, "--", "sleep", "4712"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(container_runs(sb, name, "sleep 4712"));
    // Adopted by the container's init, which reaps it: a stop never waits on it.
    r = sb.volt({"exec", name, "--", "ps", "-o", "ppid,args"});
    bool adopted = false;
    for (std::string_view line : fs::split(r.out, '\n'))
        if (line.ends_with(" sleep 4712"))
            adopted = fs::words(line).front() == "1";
    CHECK(adopted);
    REQUIRE(sb.volt({"stop", name}).code == 0);
}
