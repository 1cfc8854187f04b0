// Hostile input through the real binary and the real tools: global paths in the unit, volume
// paths and their sources, a container named like volt-run's own directories, and state files
// that name processes and cgroups that are not the container's.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "base/proc.hpp"
#include "cgroup/cgroup.hpp"
#include "netlink/link.hpp"
#include "netlink/netns.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/verbs/container.hpp"
#include "runtime/verbs/network.hpp"
#include "support.hpp"
#include "units/units.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

std::string canonical(const std::string& path) {
    char* c = ::realpath(path.c_str(), nullptr);
    REQUIRE(c);
    std::string out = c;
    std::free(c);
    return out;
}

size_t lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// This process's cgroup2 directory.
std::string own_cgroup(const std::string& mount) {
    auto self = cgroup::self_membership();
    REQUIRE(self);
    return mount + (self->unified == "/" ? "" : self->unified);
}

// A process of the test's that has nothing to do with any container: `sleep`, in a scratch
// cgroup of its own. Killed, reaped and its cgroup removed at the end.
class Bystander {
  public:
    explicit Bystander(const std::string& cgroup) : cgroup_(cgroup) {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        auto cg = cgroup::Cgroup::create(cgroup_);
        REQUIRE(cg);
        REQUIRE(cg->attach(pid_));
        start_time_ = proc::stat(pid_)->start_time;
    }
    ~Bystander() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        (void)cgroup::remove_tree(cgroup_);
    }
    Bystander(const Bystander&) = delete;
    Bystander& operator=(const Bystander&) = delete;

    pid_t pid() const { return pid_; }
    std::uint64_t start_time() const { return start_time_; }
    bool alive() const {
        auto st = proc::stat(pid_);
        return st && st->start_time == start_time_ && st->state != 'Z';
    }

  private:
    std::string cgroup_;
    pid_t pid_ = -1;
    std::uint64_t start_time_ = 0;
};

void write_hostile_state(const test::Sandbox& sb, const std::string& name, pid_t pid,
                         std::uint64_t start_time, const std::string& cgroup) {
    nlohmann::json j = {{"nspawn_pid", pid},
                        {"nspawn_start_time", start_time},
                        {"cgroup", cgroup},
                        {"cgroup_v1", ""},
                        {"under_systemd", false},
                        {"started", "2026-01-01T00:00:00Z"},
                        {"unenforced_controllers", nlohmann::json::array()}};
    REQUIRE(fs::mkdir_p(sb.run_dir() + "/" + name, 0700));
    REQUIRE(fs::write_file_atomic(sb.run_dir() + "/" + name + "/state.json", j.dump()));
}

}  // namespace

TEST_CASE("systemd-analyze verify: hostile global paths add no directive to the unit",
          "[privileged]") {
    test::skip_unless(test::have_program("/usr/bin/systemd-analyze"), "systemd-analyze");
    test::TempDir dir;
    Paths p;
    p.root = "/x\nExecStartPre=/bin/true";
    p.run_dir = "/run/a b\r[Service]\nUser=nobody %n $HOME \"q\" 'a' \\ caf\xc3\xa9 ;";
    p.cgroup_root = "/sys/fs/cgroup/%i/${PATH}";
    std::string unit = dir / units::service_name("web");
    units::ServiceParams params;
    params.container = "web";
    params.volt_run = unit_command(test::volt_run_binary(), p);
    std::string text = units::render_service(params);
    REQUIRE(fs::write_file_atomic(unit, text));
    auto r = test::run({"/usr/bin/systemd-analyze", "verify", "--man=no", unit});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.empty());
    // What systemd reads: no line but the ones the renderer writes, one ExecStart=, no
    // ExecStartPre= and no User=.
    CHECK(text.find('\r') == std::string::npos);
    size_t exec_start = 0;
    for (auto line : fs::split(text, '\n')) {
        CHECK_FALSE(line.starts_with("ExecStartPre="));
        CHECK_FALSE(line.starts_with("User="));
        if (line.starts_with("ExecStart="))
            ++exec_start;
    }
    CHECK(exec_start == 1);
}

TEST_CASE("create refuses bad global paths in one line, exit 2, writing nothing",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir src;
    std::string img = test::tiny_image(src);
    for (const std::string& bad : {std::string("/x\nExecStartPre=/bin/true"), std::string(""),
                                   std::string("relative"), std::string("/a/../b")}) {
        INFO(bad);
        auto r = sb.volt({"--root", bad, "create", sb.unique_name("g"), "--image", img});
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.starts_with("volt-run: --root: invalid value '"));
        if (bad.empty())
            continue;  // an empty variable is an unset one: the real /var/lib/volt
        r = test::run({test::volt_run_binary(), "create", sb.unique_name("g"), "--image", img},
                      {"VOLT_ROOT=" + bad, "VOLT_UNIT_DIR=" + sb.unit_dir(),
                       "VOLT_NSPAWN_DIR=" + sb.nspawn_dir(), "VOLT_RUN_DIR=" + sb.run_dir()});
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.starts_with("volt-run: VOLT_ROOT: invalid value '"));
    }
    CHECK(test::tree(sb.unit_dir()).empty());
    CHECK(test::tree(sb.nspawn_dir()).empty());
    CHECK_FALSE(fs::exists("/x\nExecStartPre=/bin/true"));
}

TEST_CASE("a runtime error is one line whatever bytes the values it names hold",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir src;
    std::string img = test::tiny_image(src);
    // Values the CLI lets through to the verbs, which name them in their errors.
    const std::string missing = src / "no\nsuch\x1b[2J";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"create", sb.unique_name("e"), "--image", missing},
          std::vector<std::string>{"create", sb.unique_name("e"), "--image", img, "--volume",
                                   missing + ":/data"},
          std::vector<std::string>{"create", sb.unique_name("e"), "--image", img, "--seccomp",
                                   missing}}) {
        auto r = sb.volt(args);
        INFO(r.err);
        CHECK(r.code != 0);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.find('\x1b') == std::string::npos);
        CHECK(r.err.find("no\\nsuch\\x1b[2J") != std::string::npos);
    }
    CHECK(test::tree(sb.root()).empty());
}

TEST_CASE("create refuses volumes on /, /proc, /dev, /sys however they are spelled",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir src;
    std::string img = test::tiny_image(src);
    for (const char* volume : {"/tmp:/./", "/tmp://", "/tmp:/proc", "/tmp:/dev/", "/tmp://sys",
                               "/tmp:/./proc/sys", "/tmp:/dev/shm:ro"}) {
        INFO(volume);
        auto r = sb.volt({"create", sb.unique_name("v"), "--image", img, "--volume", volume});
        CHECK(r.code == 2);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.starts_with(std::string("volt-run: --volume: invalid value '") + volume +
                                "': cannot mount "));
    }
    CHECK(test::tree(sb.root()).empty());
    CHECK(test::tree(sb.unit_dir()).empty());
}

TEST_CASE("a volume source is stored resolved, and made a link after create boot refuses first",
          "[privileged]") {
    test::require_container_host();
    test::Sandbox sb;
    test::TempDir src;
    std::string img = test::tiny_image(src);
    REQUIRE(fs::mkdir_p(src / "a"));
    REQUIRE(fs::mkdir_p(src / "b"));
    REQUIRE(fs::write_file_atomic(src / "b/secret", "host data"));
    REQUIRE(::symlink((src / "a").c_str(), (src / "link").c_str()) == 0);
    std::string name = sb.unique_name("vl");
    auto r = sb.volt({"create", name, "--image", img, "--volume", src / "link" + ":/data",
                      "--network", "private"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto j = sb.inspect(name);
    CHECK(j["spec"]["volumes"][0]["host"] == canonical(src / "a"));
    CHECK(j["spec"]["volumes"][0]["container"] == "/data");
    auto settings = fs::read_file(sb.nspawn_dir() + "/" + name + ".nspawn");
    REQUIRE(settings);
    CHECK(settings->find("Bind=" + canonical(src / "a") + ":/data:idmap\n") != std::string::npos);

    const std::string stored = canonical(src / "a");
    // Retargeted: the stored path itself is now a link to another host directory.
    REQUIRE(::rename((src / "a").c_str(), (src / "a.old").c_str()) == 0);
    REQUIRE(::symlink((src / "b").c_str(), (src / "a").c_str()) == 0);
    r = sb.volt({"boot", name});
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find("--volume " + stored + ":/data: ") != std::string::npos);
    CHECK(r.err.find("has become a symbolic link") != std::string::npos);
    // Refused before anything was made: no state, no network namespace, no link, no cgroup.
    CHECK(test::tree(sb.run_dir()).empty());
    auto sock = netlink::RouteSocket::open();
    REQUIRE(sock);
    auto link = sock->link(netlink::host_ifname(name));
    REQUIRE(link);
    CHECK_FALSE(*link);
    CHECK_FALSE(
        fs::exists(own_cgroup(test::writable_cgroup2()) + "/volt.slice/volt-hybrid-" + name));
}

TEST_CASE("a container named netns: another container's boot leaves its state alone",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    test::TempDir dir{"volt-names"};
    Paths paths;
    paths.root = dir / "root";
    paths.run_dir = dir / "run";
    // What `create netns` and a run of it leave: a container, and its state directory RUN/netns.
    for (const char* name : {"netns", "c2"}) {
        Spec s;
        s.name = name;
        s.network = NetworkMode::private_net;
        REQUIRE(fs::mkdir_p(paths.config_dir(name)));
        REQUIRE(fs::write_file_atomic(paths.spec_file(name), to_json(s)));
    }
    REQUIRE(fs::mkdir_p(paths.state_dir("netns"), 0700));
    REQUIRE(fs::write_file_atomic(paths.console_log("netns"), "console\n"));
    REQUIRE(fs::write_file_atomic(paths.state_file("netns"), "{}"));
    // A namespace an earlier version left in RUN/netns for a container that no longer runs.
    REQUIRE(netlink::create_netns(paths.state_dir("netns") + "/old"));
    REQUIRE(netlink::is_netns(paths.state_dir("netns") + "/old"));
    // And one of a run of c3, booted by an earlier version, that stop tears down.
    REQUIRE(netlink::create_netns(paths.state_dir("netns") + "/c3"));

    {
        Spec c2;
        c2.name = "c2";
        c2.network = NetworkMode::private_net;
        auto setup = NetworkSetup::prepare(paths, c2);  // collects what crashed runs left
        INFO((setup ? "" : setup.error().describe()));
        REQUIRE(setup);
        CHECK(setup->plan().netns == paths.run_dir + "/.netns/c2");
    }
    auto state = fs::read_file(paths.state_file("netns"));
    auto console = fs::read_file(paths.console_log("netns"));
    CHECK((state && *state == "{}"));
    CHECK((console && *console == "console\n"));
    CHECK_FALSE(fs::exists(paths.state_dir("netns") + "/old"));  // collected
    REQUIRE(teardown_network(paths, "c3"));
    CHECK_FALSE(fs::exists(paths.state_dir("netns") + "/c3"));
    CHECK(fs::exists(paths.state_file("netns")));
    REQUIRE(teardown_network(paths, "c2"));
    REQUIRE(release_lease(paths, "c2"));
}

TEST_CASE("stop and delete --force touch no process or cgroup a hostile state names",
          "[privileged]") {
    test::skip_unless(test::is_root(), "root");
    std::string mount = test::writable_cgroup2();
    test::skip_unless(!mount.empty(), "a writable cgroup2 hierarchy");
    test::Sandbox sb;
    test::TempDir src;
    std::string img = test::tiny_image(src);
    std::string name = sb.unique_name("st");
    auto r = sb.volt({"create", name, "--image", img, "--network", "none"});
    INFO(r.err);
    REQUIRE(r.code == 0);

    const std::string own = own_cgroup(mount);
    const std::string scratch = own + "/volt-test-bystander-" + std::to_string(::getpid());
    Bystander bystander(scratch);
    REQUIRE(bystander.alive());

    SECTION("a state naming another process and another cgroup") {
        write_hostile_state(sb, name, bystander.pid(), bystander.start_time(), scratch);
        r = sb.volt({"stop", "--time", "1", name});
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(lines(r.err) == 1);
        CHECK(r.err.find("treating it as stale") != std::string::npos);
        CHECK(bystander.alive());
        CHECK(fs::is_directory(scratch));
        CHECK_FALSE(fs::exists(sb.run_dir() + "/" + name + "/state.json"));

        write_hostile_state(sb, name, bystander.pid(), bystander.start_time(), scratch);
        r = sb.volt({"delete", "--force", "--time", "1", name});
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(bystander.alive());
        CHECK(fs::is_directory(scratch));
        CHECK(sb.volt({"inspect", name}).code == 2);  // gone
    }
    SECTION("the container's own cgroup, but a pid outside it") {
        const std::string container_cgroup = own + "/volt.slice/volt-hybrid-" + name;
        REQUIRE(cgroup::Cgroup::create(container_cgroup));
        write_hostile_state(sb, name, bystander.pid(), bystander.start_time(), container_cgroup);
        r = sb.volt({"stop", "--time", "1", name});
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(r.err.find("not in the container's cgroup") != std::string::npos);
        CHECK(bystander.alive());
        CHECK(fs::is_directory(scratch));
        CHECK_FALSE(fs::exists(container_cgroup));  // its own: collected

        write_hostile_state(sb, name, bystander.pid(), bystander.start_time(), container_cgroup);
        r = sb.volt({"delete", "--force", "--time", "1", name});
        INFO(r.err);
        CHECK(r.code == 0);
        CHECK(bystander.alive());
    }
    (void)cgroup::remove_tree(own + "/volt.slice/volt-hybrid-" + name);
    ::rmdir((own + "/volt.slice").c_str());
}
