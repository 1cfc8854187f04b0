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
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
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

// The cgroups bench's peers make below bench's own (that of this test): NAME-peer (the sh
// peer), NAME-nspawn (bare nspawn, both hierarchies), NAME-crun (the crun container).
bool peer_cgroups_left(const std::string& name) {
    auto self = fs::read_file("/proc/self/cgroup");
    REQUIRE(self.ok());
    for (auto line : fs::split(*self, '\n')) {
        auto colon = line.rfind(':');
        if (colon == std::string_view::npos)
            continue;
        std::string path(line.substr(colon + 1));
        if (path == "/")
            path.clear();
        for (const char* h : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"})
            for (const char* suffix : {"-peer", "-nspawn", "-crun"})
                if (fs::exists(std::string(h) + path + "/" + name + suffix))
                    return true;
    }
    return false;
}

// A --compare run's peers: every one either has its sample of each lifecycle and a ratio, or
// says why not (not installed, or failed with a reason) with a null ratio. Which phase has which.
void check_peers(const json& j, std::size_t lifecycles = 1) {
    const std::string boot_peer = j["network"] == "private" ? "sh + ip" : "sh";
    const std::vector<std::vector<std::string>> expected = {{"cp -a"},
                                                            {boot_peer},
                                                            {},
                                                            {"systemd-nspawn --boot"},
                                                            {"nsenter -a", "crun exec"},
                                                            {"nsenter -a", "crun exec"},
                                                            {"kill -TERM NSPAWN"},
                                                            {}};
    REQUIRE(j["phases"].size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const json& p = j["phases"][i];
        INFO("phase " << p["name"]);
        REQUIRE(p["peers"].size() == expected[i].size());
        for (std::size_t k = 0; k < expected[i].size(); ++k) {
            const json& q = p["peers"][k];
            INFO("peer " << q.dump());
            CHECK(q["name"] == expected[i][k]);
            if (q["installed"] == false || q.contains("error")) {
                CHECK(q["ratio"].is_null());
                CHECK_FALSE(q.contains("samples_ns"));
                if (q.contains("error")) {
                    CHECK_FALSE(q["error"].get<std::string>().empty());
                    CHECK(q["error"].get<std::string>().find('\n') == std::string::npos);
                }
                continue;
            }
            REQUIRE(q["samples_ns"].size() == lifecycles);
            for (const json& s : q["samples_ns"])
                CHECK(s.get<std::uint64_t>() > 0);
            CHECK(q["ratio"].get<double>() > 0);
        }
    }
}

// The systemd-nspawn and crun processes left anywhere, and crun containers' `sleep`s named by
// their bench container (their command lines name the bench's scratch root or container).
bool peer_processes_left(const std::string& name) {
    // The crun container's init, killed, may be a zombie child of this test (the subreaper).
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    auto pids = fs::list_dir("/proc");
    REQUIRE(pids.ok());
    for (const auto& p : *pids) {
        if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos)
            continue;
        auto cmdline = fs::read_file("/proc/" + p + "/cmdline");
        if (!cmdline)
            continue;
        if (cmdline->find(name + "-nspawn") != std::string::npos ||
            cmdline->find(name + "-crun") != std::string::npos)
            return true;
        // The crun container's init: sleep 86400 in a cgroup named after the container.
        auto cg = fs::read_file("/proc/" + p + "/cgroup");
        if (cg && cg->find("/" + name + "-") != std::string::npos)
            return true;
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
    CHECK(j["schema"] == "volt-run-bench/2");
    CHECK(j["iterations"] == 2);
    CHECK(j["network"] == "private");
    const std::string name = j["container"];
    CHECK(name.starts_with("vb-"));
    // The progress line: one a lifecycle when stderr is no terminal.
    CHECK(r.err.find("lifecycle 2/2") != std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);

    const std::vector<std::string> phases = {"create",        "boot set-up", "nspawn to READY",
                                             "time to READY", "first exec",  "warm exec",
                                             "stop",          "delete"};
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
        CHECK_FALSE(p.contains("peers"));
    }
    // time to READY is boot set-up and nspawn to READY of the same lifecycle.
    for (std::size_t i = 0; i < 2; ++i)
        CHECK(j["phases"][3]["samples_ns"][i].get<std::uint64_t>() ==
              j["phases"][1]["samples_ns"][i].get<std::uint64_t>() +
                  j["phases"][2]["samples_ns"][i].get<std::uint64_t>());

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
    check_peers(j);
    CHECK(scratch_dirs(tmp) == dirs_before);
    CHECK(link_names() == links_before);
    CHECK_FALSE(test::cgroups_left(j["container"].get<std::string>()));
    CHECK_FALSE(peer_cgroups_left(j["container"].get<std::string>()));
    CHECK(no_container_processes());
}

TEST_CASE("bench --compare on bookworm: bare nspawn to READY and crun exec and nothing left",
          "[e2e][bench]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::debian_rootfs()));
    test::Sandbox sb;  // the subreaper of what bench's boots and crun's container leave
    test::TempDir tmp("vb-tmp");
    const auto dirs_before = scratch_dirs(tmp);
    const auto links_before = link_names();
    const auto mounts_before = nsfs_mounts();
    const auto all_mounts_before = fs::read_file("/proc/self/mountinfo");
    REQUIRE(all_mounts_before.ok());
    auto r = test::run({test::volt_run_binary(), "bench", "--image", test::debian_rootfs(),
                        "--iterations", "1", "--json", "--compare"},
                       {"TMPDIR=" + tmp.path()});
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    json j = json::parse(r.out);
    check_peers(j);
    // Bare nspawn booted the guest to READY here: a real figure and a ratio.
    const json& bare = j["phases"][3]["peers"][0];
    INFO("bare nspawn: " << bare.dump());
    CHECK(bare["installed"] == true);
    CHECK_FALSE(bare.contains("error"));
    REQUIRE(bare["samples_ns"].size() == 1);
    CHECK(bare["ratio"].get<double>() > 0);
    CHECK(bare["command"].get<std::string>().find("--boot --keep-unit") != std::string::npos);
    // crun exec: a figure where crun runs, else the one-line reason; never both, never neither.
    const json& crun = j["phases"][5]["peers"][1];
    INFO("crun: " << crun.dump());
    if (crun["installed"] == true)
        CHECK((crun.contains("samples_ns") != crun.contains("error")));
    // Nothing of it left: scratch root, links, cgroups, processes, mounts of ours.
    const std::string name = j["container"];
    CHECK(scratch_dirs(tmp) == dirs_before);
    CHECK(link_names() == links_before);
    CHECK(nsfs_mounts() == mounts_before);
    CHECK(fs::read_file("/proc/self/mountinfo").value() == *all_mounts_before);
    CHECK_FALSE(test::cgroups_left(name));
    CHECK_FALSE(peer_cgroups_left(name));
    CHECK(no_container_processes());
    CHECK_FALSE(peer_processes_left(name));
}

TEST_CASE("bench --compare interrupted while bare nspawn or crun runs leaves nothing",
          "[e2e][bench]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    test::TempDir tmp("vb-tmp");
    // test::Background passes this process's environment on: bench's TMPDIR for this test.
    struct ScopedTmpdir {
        std::optional<std::string> old;
        explicit ScopedTmpdir(const std::string& dir) {
            if (const char* v = std::getenv("TMPDIR"))
                old = v;
            ::setenv("TMPDIR", dir.c_str(), 1);
        }
        ~ScopedTmpdir() {
            if (old)
                ::setenv("TMPDIR", old->c_str(), 1);
            else
                ::unsetenv("TMPDIR");
        }
    } tmpdir(tmp.path());
    const auto dirs_before = scratch_dirs(tmp);
    const auto links_before = link_names();
    auto own = fs::read_file("/proc/self/cgroup");
    REQUIRE(own.ok());
    std::string unified;
    for (auto line : fs::split(*own, '\n'))
        if (line.starts_with("0::"))
            unified = std::string(line.substr(3));
    if (unified == "/")
        unified.clear();
    const std::string cgroup2 =
        fs::is_directory("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    const bool crun_installed = ::access("/usr/bin/crun", X_OK) == 0;
    for (const std::string peer : {"-nspawn", "-crun"}) {
        if (peer == "-crun" && !crun_installed)
            continue;  // its interruption cannot be caught without it
        INFO("interrupted while the peer " << peer << " runs");
        test::Background bench(sb, {"bench", "--image", test::busybox_rootfs(), "--iterations", "3",
                                    "--compare", "--stop-time", "1", "--json"});
        const std::string name = "vb-" + std::to_string(bench.pid());
        // The peer's cgroup exists while it runs (bench's cgroup is this test's).
        bool running = false;
        std::optional<int> early;
        for (int i = 0; i < 12000 && !running && !early; ++i) {
            running = fs::is_directory(cgroup2 + unified + "/" + name + peer);
            if (!running)
                early = bench.wait(5);
        }
        if (early && peer == "-crun" &&
            bench.output().find("\"crun run failed") != std::string::npos) {
            WARN("crun cannot run a container here, so it cannot be interrupted: "
                 << bench.output());
            continue;
        }
        REQUIRE(running);
        REQUIRE(::kill(bench.pid(), SIGTERM) == 0);
        auto code = bench.wait(120000);
        INFO("output: " << bench.output());
        REQUIRE(code.has_value());
        CHECK(*code == 125);
        CHECK(bench.output().find("interrupted by SIGTERM") != std::string::npos);
        CHECK(scratch_dirs(tmp) == dirs_before);
        CHECK(link_names() == links_before);
        CHECK_FALSE(test::cgroups_left(name));
        CHECK_FALSE(peer_cgroups_left(name));
        CHECK(no_container_processes());
        CHECK_FALSE(peer_processes_left(name));
    }
}

TEST_CASE("bench --compare: a peer not installed or failing is one line and the bench goes on",
          "[e2e][bench]") {
    test::require_container_host();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    test::TempDir tmp("vb-tmp");
    // A PATH with the other peers' programs and either no crun or one that fails.
    test::TempDir bin("vb-path");
    for (const char* prog : {"cp", "sh", "mkdir", "rmdir", "nsenter"}) {
        std::string found;
        for (const char* dir : {"/usr/bin", "/usr/sbin", "/bin", "/sbin"})
            if (found.empty() && ::access((std::string(dir) + "/" + prog).c_str(), X_OK) == 0)
                found = std::string(dir) + "/" + prog;
        REQUIRE_FALSE(found.empty());
        REQUIRE(::symlink(found.c_str(), (bin / prog).c_str()) == 0);
    }
    auto bench = [&] {
        auto r = test::run(
            {test::volt_run_binary(), "bench", "--image", test::busybox_rootfs(), "--iterations",
             "2", "--json", "--stop-time", "1", "--compare", "--network", "none"},
            {"TMPDIR=" + tmp.path(), "PATH=" + bin.path()});
        INFO("stderr: " << r.err);
        REQUIRE(r.code == 0);
        json j = json::parse(r.out);
        check_peers(j, 2);
        CHECK_FALSE(peer_cgroups_left(j["container"].get<std::string>()));
        CHECK_FALSE(peer_processes_left(j["container"].get<std::string>()));
        // The others ran.
        CHECK(j["phases"][1]["peers"][0]["samples_ns"].size() == 2);
        CHECK(j["phases"][4]["peers"][0]["samples_ns"].size() == 2);
        CHECK(j["phases"][3]["peers"][0]["samples_ns"].size() == 2);
        return std::make_pair(j["phases"][4]["peers"][1], j["phases"][5]["peers"][1]);
    };
    {
        INFO("no crun");
        auto [first, warm] = bench();
        for (const json& q : {first, warm}) {
            CHECK(q["installed"] == false);
            CHECK(q["ratio"].is_null());
            CHECK_FALSE(q.contains("error"));
        }
    }
    {
        INFO("a crun that fails");
        REQUIRE(fs::write_file_atomic(bin / "crun",
                                      "#!/bin/sh\necho 'crun: made to fail' >&2\nexit 1\n", 0755)
                    .ok());
        auto [first, warm] = bench();
        for (const json& q : {first, warm}) {
            CHECK(q["installed"] == true);
            CHECK(q["ratio"].is_null());
            CHECK(q["error"] == "crun run failed (exit status 1): crun: made to fail");
        }
    }
}
