// End to end: volt-run bench runs real lifecycles of a busybox container and leaves nothing
// behind. Timings are only checked to be there (> 0, ordered summaries), never against a value.
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

extern char** environ;

namespace {

// bench's scratch roots in `tmp` (its TMPDIR): each test gives bench a TMPDIR of its own, so
// that benches of other tests running at the same time are not seen.
std::set<std::string> scratch_dirs(const test::TempDir& tmp) {
    std::set<std::string> out;
    if (auto names = fs::list_dir(tmp.path()))
        for (const auto& n : *names)
            if (n.starts_with("volt-bench."))
                out.insert(n);
    return out;
}

std::set<std::string> link_names() {
    std::set<std::string> out;
    auto rt = netlink::RouteSocket::open();
    REQUIRE(rt.ok());
    auto links = rt->links();
    REQUIRE(links.ok());
    for (const auto& l : *links)
        out.insert(l.name);
    return out;
}

// The namespace mounts (nsfs) of this mount namespace, as mountinfo lines.
std::multiset<std::string> nsfs_mounts() {
    std::multiset<std::string> out;
    auto text = fs::read_file("/proc/self/mountinfo");
    REQUIRE(text.ok());
    for (auto line : fs::split(*text, '\n'))
        if (line.find(" - nsfs ") != std::string_view::npos)
            out.emplace(line);
    return out;
}

// nspawn and the reaper go once stop has collected the run; the reaper may take a moment to
// exit after it (it wakes on nspawn's exit).
bool no_container_processes() {
    for (int i = 0; i < 100; ++i) {
        bool alive = false;
        for (const char* comm : {"volt-reaper", "systemd-nspawn"})
            for (pid_t pid : test::children_named(comm))
                alive = alive || test::process_alive(pid);  // reaps the orphans that exited
        if (!alive)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

// volt-run boot --detach NAME in the sandbox with VOLT_TIMING_FD=3 and `fd` as its fd 3; its exit
// code.
int boot_with_timing_fd(const test::Sandbox& sb, const std::string& name, int fd) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (!std::string_view(*e).starts_with("VOLT_"))
            env.emplace_back(*e);
    for (const auto& e : sb.env())
        env.push_back(e);
    env.push_back("VOLT_TIMING_FD=3");
    std::vector<std::string> args = {test::volt_run_binary(), "boot", "--detach", name};
    std::vector<char*> argv, envp;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, fd, 3);
    pid_t pid = -1;
    int err = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&fa);
    REQUIRE(err == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("boot's VOLT_TIMING_FD hook writes its events to a pipe, and never to a file",
          "[e2e][bench]") {
    test::require_container_host();
    test::Sandbox sb;
    const std::string name = sb.unique_name("vb-timing");
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);

    // A pipe: "nspawn-exec NS" then "ready NS", in order, and EOF once boot returned (neither
    // nspawn nor the reaper keeps the pipe open).
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    UniqueFd rd(p[0]), wr(::fcntl(p[1], F_DUPFD_CLOEXEC, 10));
    ::close(p[1]);
    REQUIRE(boot_with_timing_fd(sb, name, wr.get()) == 0);
    wr.reset();
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    auto lines = fs::split(text, '\n');
    REQUIRE(lines.size() == 3);
    CHECK(lines[2].empty());
    REQUIRE(lines[0].starts_with("nspawn-exec "));
    REQUIRE(lines[1].starts_with("ready "));
    const auto exec_ns = std::stoull(std::string(lines[0].substr(12)));
    const auto ready_ns = std::stoull(std::string(lines[1].substr(6)));
    CHECK(exec_ns > 0);
    CHECK(exec_ns <= ready_ns);
    REQUIRE(sb.volt({"stop", "--time", "1", name}).code == 0);

    // A regular file with that number: boot works and writes nothing into it.
    test::TempDir dir("vb-timing");
    int f = ::open((dir / "file").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(f >= 0);
    UniqueFd file(::fcntl(f, F_DUPFD_CLOEXEC, 10));
    ::close(f);
    REQUIRE(boot_with_timing_fd(sb, name, file.get()) == 0);
    struct stat st;
    REQUIRE(::fstat(file.get(), &st) == 0);
    CHECK(st.st_size == 0);
    REQUIRE(sb.volt({"stop", "--time", "1", name}).code == 0);
}

TEST_CASE("bench: every phase measured per lifecycle, nothing left afterwards", "[e2e][bench]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;  // makes this test the subreaper of what bench's boots leave
    test::TempDir tmp("vb-tmp");
    const auto dirs_before = scratch_dirs(tmp);
    const auto links_before = link_names();
    const auto mounts_before = nsfs_mounts();

    auto r = test::run({test::volt_run_binary(), "bench", "--image", test::busybox_rootfs(),
                        "--iterations", "2", "--json", "--stop-time", "1"},
                       {"TMPDIR=" + tmp.path()});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    json j = json::parse(r.out);
    CHECK(j["schema"] == "volt-run-bench/1");
    CHECK(j["iterations"] == 2);
    CHECK(j["network"] == "private");
    const std::string name = j["container"];
    CHECK(name.starts_with("vb-"));
    // The progress line: one a lifecycle when stderr is no terminal.
    CHECK(r.err.find("lifecycle 2/2") != std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);

    const std::vector<std::string> phases = {
        "create", "boot set-up", "nspawn to READY", "first exec", "warm exec", "stop", "delete"};
    REQUIRE(j["phases"].size() == phases.size());
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const json& p = j["phases"][i];
        INFO("phase " << phases[i]);
        CHECK(p["name"] == phases[i]);
        REQUIRE(p["samples_ns"].size() == 2);
        for (const json& s : p["samples_ns"])
            CHECK(s.get<std::uint64_t>() > 0);
        double mn = p["min_ms"], p50 = p["p50_ms"], p90 = p["p90_ms"], mx = p["max_ms"];
        CHECK(mn > 0);
        CHECK(mn <= p50);
        CHECK(p50 <= p90);
        CHECK(p90 <= mx);
        CHECK_FALSE(p.contains("peer"));
    }

    // Nothing of it is left: no scratch root, container, process, cgroup, link or namespace (its
    // network was built in bench's own namespaces, and neither reached ours).
    CHECK(scratch_dirs(tmp) == dirs_before);
    CHECK_FALSE(test::cgroups_left(name));
    CHECK(no_container_processes());
    CHECK_FALSE(test::has_links_of(name));
    CHECK(link_names() == links_before);
    CHECK(nsfs_mounts() == mounts_before);
}

TEST_CASE("bench: a lifecycle that fails ends the run, names the verb and removes everything",
          "[e2e][bench]") {
    test::require_container_host();
    test::Sandbox sb;
    test::TempDir images("vb-image");
    // create takes it, but it has no init to boot.
    const std::string image = test::tiny_image(images);
    test::TempDir tmp("vb-tmp");
    const auto dirs_before = scratch_dirs(tmp);
    const auto mounts_before = nsfs_mounts();
    auto r = test::run({test::volt_run_binary(), "bench", "--image", image, "--iterations", "3",
                        "--network", "none", "--json"},
                       {"TMPDIR=" + tmp.path()});
    INFO("stderr: " << r.err);
    CHECK(r.code == 125);
    CHECK(r.out.empty());
    const std::string prefix = "volt-run: bench of container ";
    const auto at = r.err.find(prefix);  // after the progress line
    REQUIRE(at != std::string::npos);
    const auto from = at + prefix.size();
    const std::string name = r.err.substr(from, r.err.find(':', from) - from);
    CHECK(name.starts_with("vb-"));
    // Its exec fails (the guest has no init to stay up); any verb's failure ends the run alike.
    CHECK(r.err.find(": volt-run ") != std::string::npos);
    CHECK(r.err.find(" failed (exit status ") != std::string::npos);
    CHECK(scratch_dirs(tmp) == dirs_before);
    CHECK(nsfs_mounts() == mounts_before);
    CHECK(no_container_processes());
    CHECK_FALSE(test::cgroups_left(name));
}

TEST_CASE("bench: a missing image is a usage error before anything is made", "[e2e][bench]") {
    test::require_container_host();
    test::TempDir tmp("vb-tmp");
    const auto dirs_before = scratch_dirs(tmp);
    auto r = test::run({test::volt_run_binary(), "bench", "--image", "/nonexistent/vb-image"},
                       {"TMPDIR=" + tmp.path()});
    CHECK(r.code == 2);
    CHECK(r.err == "volt-run: --image: invalid value '/nonexistent/vb-image': not a directory\n");
    CHECK(scratch_dirs(tmp) == dirs_before);
}

TEST_CASE("bench --compare: the peers run interleaved, each with a ratio, and leave nothing",
          "[e2e][bench]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    test::TempDir tmp("vb-tmp");
    const auto dirs_before = scratch_dirs(tmp);
    const auto links_before = link_names();
    auto r = test::run({test::volt_run_binary(), "bench", "--image", test::busybox_rootfs(),
                        "--iterations", "1", "--json", "--stop-time", "1", "--compare"},
                       {"TMPDIR=" + tmp.path()});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    json j = json::parse(r.out);
    CHECK(j["compare"] == true);
    // create, boot set-up, first and warm exec have a peer that ran (or says it is not
    // installed); nspawn to READY says it is not measured; stop and delete have none.
    for (std::size_t i : {0, 1, 3, 4}) {
        const json& p = j["phases"][i];
        INFO("phase " << p["name"]);
        REQUIRE(p.contains("peer"));
        if (p["peer"]["installed"] == false) {
            CHECK(p["ratio"].is_null());
            continue;
        }
        REQUIRE(p["peer"]["samples_ns"].size() == 1);
        CHECK(p["peer"]["samples_ns"][0].get<std::uint64_t>() > 0);
        CHECK(p["ratio"].get<double>() > 0);
    }
    CHECK(j["phases"][2]["peer"]["note"] == "not measured yet");
    CHECK(j["phases"][2]["ratio"].is_null());
    CHECK_FALSE(j["phases"][5].contains("peer"));
    CHECK_FALSE(j["phases"][6].contains("peer"));
    CHECK(scratch_dirs(tmp) == dirs_before);
    CHECK(link_names() == links_before);
    CHECK_FALSE(test::cgroups_left(j["container"].get<std::string>()));
    CHECK(no_container_processes());
}
