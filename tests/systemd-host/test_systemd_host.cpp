// The systemd-host tier: runs inside a "host" container whose PID 1 is systemd, with machined and
// journald (tests/systemd-host/run.sh boots it, ../shared/E2E.md has the recipe). volt-run is
// installed there as a user would have it: /usr/local/bin/volt-run, default paths, containers as
// volt-hybrid@NAME.service units. What volt-run reports is checked against systemd's own tools.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

const std::string kVoltRun = "/usr/local/bin/volt-run";
const std::string kImage = "/var/lib/volt/images/bookworm";  // bound in by run.sh

test::RunResult volt_run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kVoltRun};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = test::run(argv);
    UNSCOPED_INFO("volt-run " << args.front() << " → " << r.code << "\nstdout: " << r.out
                              << "\nstderr: " << r.err);
    return r;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string systemctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/systemctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    return trimmed(test::run(argv).out);
}

std::string property(const std::string& unit, const std::string& name) {
    return systemctl({"show", "--value", "-p", name, unit});
}

// The container's cgroup paths, as /proc/PID/cgroup of its init names them.
std::string unified_cgroup_of(pid_t pid) {
    auto text = fs::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    REQUIRE(text);
    for (auto line : fs::split(*text, '\n'))
        if (line.starts_with("0::"))
            return std::string(line.substr(3));
    return {};
}

void require_systemd_host() {
    test::skip_unless(test::have_program("/usr/bin/systemctl") && fs::exists("/run/systemd/system"),
                      "systemd as PID 1 (run this test through tests/systemd-host/run.sh)");
}

// The cgroups of volt-hybrid@web.service in every hierarchy, one per line.
std::string unit_cgroups() {
    auto r = test::run({"/usr/bin/find", "/sys/fs/cgroup", "-name", "volt-hybrid@web*"});
    REQUIRE(r.code == 0);
    return r.out;
}

// Removes a container left by a failed earlier section.
struct Cleanup {
    std::string name;
    ~Cleanup() { (void)test::run({kVoltRun, "delete", "--force", name}); }
};

}  // namespace

TEST_CASE("a container as a systemd service: create, start, exec, logs, status, stop, delete",
          "[systemd-host]") {
    require_systemd_host();
    const std::string name = "web";
    const std::string unit = "volt-hybrid@web.service";
    Cleanup cleanup{name};

    // create --enable: the unit is written, systemd reloaded, and the unit enabled.
    auto created = volt_run({"create", name, "--image", kImage, "--enable"});
    REQUIRE(created.code == 0);
    CHECK(systemctl({"is-enabled", unit}) == "enabled");
    CHECK(property(unit, "LoadState") == "loaded");
    CHECK(property(unit, "NeedDaemonReload") == "no");

    // start returns once the guest reported READY: the unit is active at once.
    auto started = volt_run({"start", name});
    REQUIRE(started.code == 0);
    CHECK(systemctl({"is-active", unit}) == "active");
    auto machines = test::run({"/usr/bin/machinectl", "list", "--no-legend"});
    CHECK(machines.out.find(name) != std::string::npos);
    pid_t leader = std::stoi(
        trimmed(test::run({"/usr/bin/machinectl", "show", "--value", "-p", "Leader", name}).out));
    REQUIRE(leader > 0);

    // What stop and delete must remove exists while it runs.
    CHECK(fs::exists("/run/volt/" + name + "/state.json"));
    CHECK(fs::exists("/run/volt/.netns/" + name));
    CHECK(fs::exists("/sys/class/net/ve-" + name));
    CHECK(unit_cgroups() != "");

    // The container's cgroup is inside the unit's delegated one, with nspawn's payload leaf.
    std::string cg = unified_cgroup_of(leader);
    INFO("the guest's init is in " << cg);
    CHECK(cg.find("/" + unit + "/container/payload") != std::string::npos);

    // exec: output and exit code come back.
    auto ran = volt_run({"exec", name, "--", "sh", "-c", "echo hello; exit 7"});
    CHECK(ran.code == 7);
    CHECK(ran.out == "hello\n");
    auto guest = volt_run({"exec", name, "--", "systemctl", "is-system-running", "--wait"});
    CHECK((trimmed(guest.out) == "running" || trimmed(guest.out) == "degraded"));

    // logs: the guest's boot lines, reached through the journal.
    auto logs = volt_run({"logs", name});
    CHECK(logs.code == 0);
    INFO("volt-run logs:\n" << logs.out);
    CHECK(logs.out.find("Reached target") != std::string::npos);
    CHECK(logs.out.find("Started volt-hybrid@web.service") != std::string::npos);
    auto last = volt_run({"logs", name, "-n", "3", "--json"});
    CHECK(last.code == 0);
    INFO("volt-run logs -n 3 --json:\n" << last.out);
    const std::string last_text = trimmed(last.out);  // split's views point into it
    auto lines = fs::split(last_text, '\n');
    CHECK(lines.size() == 3);
    for (auto l : lines)
        CHECK(json::parse(l).contains("MESSAGE"));
    CHECK(volt_run({"logs", name, "--since", "-1h"}).out.find("Reached target") !=
          std::string::npos);
    auto bad_since = volt_run({"logs", name, "--since", "last tuesday"});
    CHECK(bad_since.code == 2);
    CHECK(bad_since.err.find("'last tuesday'") != std::string::npos);

    // status agrees with systemctl and machinectl.
    auto status = volt_run({"status", name, "--json"});
    REQUIRE(status.code == 0);
    auto st = json::parse(status.out);
    CHECK(st["active_state"] == "active");
    CHECK(st["sub_state"] == "running");
    CHECK(st["unit_file_state"] == "enabled");
    CHECK(std::to_string(st["main_pid"].get<int>()) == property(unit, "MainPID"));
    CHECK(st["machine"]["leader"].get<int>() == leader);
    CHECK(volt_run({"status", name}).out.find("active (running)") != std::string::npos);
    // inspect adds machined's addresses: the container's leased one among them.
    auto inspected = json::parse(volt_run({"inspect", name, "--json"}).out);
    auto addresses = inspected["machine"]["addresses"];
    CHECK(std::find(addresses.begin(), addresses.end(), "10.88.0.2") != addresses.end());

    // restart: a new nspawn, still active, still READY when it returns.
    std::string pid_before = property(unit, "MainPID");
    REQUIRE(volt_run({"restart", name}).code == 0);
    CHECK(systemctl({"is-active", unit}) == "active");
    CHECK(property(unit, "MainPID") != pid_before);

    // stop goes through systemd; the unit's ExecStopPost= collects the run.
    auto stopped = volt_run({"stop", name});
    REQUIRE(stopped.code == 0);
    CHECK(systemctl({"is-active", unit}) == "inactive");
    CHECK_FALSE(fs::exists("/run/volt/" + name));
    CHECK_FALSE(fs::exists("/run/volt/.netns/" + name));
    CHECK_FALSE(fs::exists("/sys/class/net/ve-" + name));
    CHECK(test::run({"/usr/bin/machinectl", "show", name}).code != 0);

    // delete: no unit, no settings file, no enablement link, no cgroup.
    REQUIRE(volt_run({"delete", name}).code == 0);
    CHECK_FALSE(fs::exists("/etc/systemd/system/" + unit));
    CHECK_FALSE(fs::exists("/etc/systemd/nspawn/" + name + ".nspawn"));
    CHECK_FALSE(fs::exists("/etc/systemd/system/machines.target.wants/" + unit));
    CHECK(property(unit, "LoadState") == "not-found");
    CHECK(systemctl({"list-units", "--all", "--no-legend", unit}).empty());
    CHECK(unit_cgroups() == "");
}

TEST_CASE(
    "create --start, exec by machined's leader, logs --follow ends on Ctrl-C, "
    "delete --force stops the unit",
    "[systemd-host]") {
    require_systemd_host();
    const std::string name = "db";
    const std::string unit = "volt-hybrid@db.service";
    Cleanup cleanup{name};

    REQUIRE(volt_run({"create", name, "--image", kImage, "--network", "none", "--start"}).code ==
            0);
    CHECK(systemctl({"is-active", unit}) == "active");

    // Without volt-run's own state (another run directory), exec finds the container through
    // machined, and the pidfd-checked leader still works.
    auto through_machined = test::run(
        {kVoltRun, "--run-dir", "/run/volt-elsewhere", "exec", name, "--", "cat", "/proc/1/comm"});
    INFO(through_machined.err);
    CHECK(through_machined.code == 0);
    CHECK(through_machined.out == "systemd\n");

    // logs -f prints, then waits; SIGINT ends it cleanly (exit 0).
    std::string out_file = "/tmp/volt-logs-follow.out";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, 1);
        ::execl(kVoltRun.c_str(), kVoltRun.c_str(), "logs", "-f", name.c_str(), nullptr);
        ::_exit(127);
    }
    std::string seen;
    for (int i = 0; i < 100 && seen.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto text = fs::read_file(out_file);
        seen = text ? *text : "";
    }
    CHECK_FALSE(seen.empty());
    ::kill(pid, SIGINT);
    int wstatus = 0;
    REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
    CHECK(WIFEXITED(wstatus));
    CHECK(WEXITSTATUS(wstatus) == 0);
    ::unlink(out_file.c_str());

    // A running unit is not deleted without --force; with it, systemd stops it first.
    auto refused = volt_run({"delete", name});
    CHECK(refused.code == 2);
    CHECK(refused.err.find("--force") != std::string::npos);
    CHECK(systemctl({"is-active", unit}) == "active");
    REQUIRE(volt_run({"delete", "--force", name}).code == 0);
    CHECK(property(unit, "LoadState") == "not-found");
    CHECK_FALSE(fs::exists("/var/lib/volt/containers/" + name));
}
