// Landlock enforcement in child processes: denials, not only successes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>

#include "base/fs.hpp"
#include "landlock/landlock.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::landlock;

namespace {

void require_landlock(int abi) {
    test::skip_unless(probe_abi() >= abi, "Landlock ABI " + std::to_string(abi));
}

// Runs probe in a child restricted by the policy (as ABI `abi` would enforce it), and returns
// what the probe returned: 0 for success or an errno.
int in_domain(const std::string& policy_text, int abi, const std::function<int()>& probe) {
    auto policy = parse_policy(policy_text, "test");
    REQUIRE(policy.ok());
    Plan p = plan(*policy, Part::exec, abi);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        auto rs = Ruleset::create(p);
        if (!rs)
            ::_exit(200);
        for (const auto& rule : p.paths) {
            int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
            if (fd < 0 || !rs->allow_path(fd, rule.rights))
                ::_exit(201);
            ::close(fd);
        }
        if (restrict_self(rs->fd()) != 0)
            ::_exit(202);
        ::_exit(probe());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    REQUIRE(code < 200);  // the ruleset itself was built and applied
    return code;
}

int errno_of(int rc) {
    return rc < 0 ? errno : 0;
}

int write_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    ::close(fd);
    return 0;
}

int read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    ::close(fd);
    return 0;
}

int bind_port(std::uint16_t port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errno;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int err = errno_of(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a));
    ::close(s);
    return err;
}

}  // namespace

TEST_CASE("Landlock file rules: read allowed, write and execute denied", "[privileged][rootless]") {
    require_landlock(1);
    test::TempDir t;
    REQUIRE(fs::mkdir_p(t / "ro").ok());
    REQUIRE(fs::mkdir_p(t / "rw").ok());
    REQUIRE(fs::write_file_atomic(t / "ro/data", "x").ok());
    REQUIRE(fs::write_file_atomic(t / "ro/tool", "#!/bin/true\n", 0755).ok());
    std::string root = t.path();
    int abi = probe_abi();
    CHECK(in_domain("fs " + root + "/ro read\n", abi, [&] { return read_file(t / "ro/data"); }) ==
          0);
    CHECK(in_domain("fs " + root + "/ro read\n", abi, [&] { return write_file(t / "ro/data"); }) ==
          EACCES);
    CHECK(in_domain("fs " + root + "/ro read\n", abi, [&] { return write_file(t / "ro/new"); }) ==
          EACCES);
    CHECK(in_domain("fs " + root + "/rw read,write,create\n", abi,
                    [&] { return write_file(t / "rw/new"); }) == 0);
    CHECK(fs::exists(t / "rw/new"));
    // Outside every rule: nothing at all.
    CHECK(in_domain("fs " + root + "/rw read\n", abi, [&] { return read_file(t / "ro/data"); }) ==
          EACCES);
    // execve of a file under a rule without execute.
    auto exec_probe = [](const std::string& path) {
        return [path] {
            char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
            ::execve(path.c_str(), argv, nullptr);
            return errno;
        };
    };
    CHECK(in_domain("fs " + root + "/ro read\n", abi, exec_probe(t / "ro/tool")) == EACCES);
    // With execute (and the interpreter's /usr) it runs: /bin/true exits 0.
    CHECK(in_domain("fs " + root + "/ro read,execute\nfs /usr read,execute\n", abi,
                    exec_probe(t / "ro/tool")) == 0);
}

TEST_CASE("Landlock TCP bind: only the allowed port", "[privileged][rootless]") {
    require_landlock(4);
    int abi = probe_abi();
    // An unprivileged port range on loopback: the test runs in its own network namespace.
    CHECK(in_domain("net bind-tcp 40001\n", abi, [] { return bind_port(40002); }) == EACCES);
    CHECK(in_domain("net bind-tcp 40001\n", abi, [] { return bind_port(40001); }) == 0);
    CHECK(in_domain("net bind-tcp none\n", abi, [] { return bind_port(40001); }) == EACCES);
    // Without a net rule, binding is not Landlock's business.
    CHECK(in_domain("scope signal\n", abi, [] { return bind_port(40003); }) == 0);
}

TEST_CASE("Landlock signal scope: no signal leaves the domain", "[privileged][rootless]") {
    require_landlock(6);
    int abi = probe_abi();
    pid_t outside = ::fork();
    REQUIRE(outside >= 0);
    if (outside == 0) {
        ::pause();
        ::_exit(0);
    }
    CHECK(in_domain("scope signal\n", abi, [&] { return errno_of(::kill(outside, 0)); }) == EPERM);
    // Inside the domain signals still work (the probe signals itself).
    CHECK(in_domain("scope signal\n", abi, [] { return errno_of(::kill(::getpid(), 0)); }) == 0);
    CHECK(in_domain("fs /usr read\n", abi, [&] { return errno_of(::kill(outside, 0)); }) == 0);
    ::kill(outside, SIGKILL);
    ::waitpid(outside, nullptr, 0);
}

TEST_CASE("Landlock on an older ABI: partial, and still enforces what it can",
          "[privileged][rootless]") {
    require_landlock(4);
    test::TempDir t;
    REQUIRE(fs::mkdir_p(t / "ro").ok());
    REQUIRE(fs::write_file_atomic(t / "ro/data", "x").ok());
    std::string policy = "fs " + t.path() + "/ro read\nnet bind-tcp 40001\nscope signal\n";
    auto parsed = parse_policy(policy, "test");
    REQUIRE(parsed.ok());
    Plan p = plan(*parsed, Part::exec, 3);
    CHECK(p.level() == "partial");
    CHECK(p.describe().find("TCP bind") != std::string::npos);
    // As ABI 3 would: the write is still denied, the bind is not restricted.
    CHECK(in_domain(policy, 3, [&] { return write_file(t / "ro/data"); }) == EACCES);
    CHECK(in_domain(policy, 3, [] { return bind_port(40002); }) == 0);
}
