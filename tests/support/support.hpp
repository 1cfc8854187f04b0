// Shared helpers of the test suites: temporary directories, running programs, honest skips, and
// a sandbox that points volt-run at throw-away directories.
#pragma once

#include <sys/types.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "runtime/plan/paths.hpp"

namespace volt::test {

// A fresh directory under $TMPDIR (or /var/tmp), removed with everything below it.
class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "volt-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  private:
    std::string path_;
};

struct RunResult {
    int code = -1;  // exit status, or 128+N for signal N
    std::string out;
    std::string err;
};

// Runs argv (argv[0] an absolute path) with extra environment entries, capturing its output;
// moved into each of the cgroup directories `cgroups` first (one per hierarchy), and with the
// signals `ignored` set to SIG_IGN, which execve keeps (a caller's inherited state).
RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
              const std::string& stdin_text = {}, const std::vector<std::string>& cgroups = {},
              const std::vector<int>& ignored = {});

// Ends the current test as skipped because the machine lacks `facility`, unless
// VOLT_TESTS_MUST_RUN=1 and the test is not listed in the README as unavailable on our CI
// machines: then the skip is a failure. Skips exit with code 77 (CTest SKIP_RETURN_CODE).
void skip_unless(bool available, const std::string& facility);

bool is_root();
// A cgroup2 hierarchy we can create cgroups in (its mount path, or empty).
std::string writable_cgroup2();
bool have_program(const std::string& path);
// What every e2e test needs to boot a container: root, systemd-nspawn and a writable cgroup2
// hierarchy; skips (or fails under VOLT_TESTS_MUST_RUN=1) naming what is missing.
void require_container_host();

// The root file systems the CTest fixtures build (tools/make-*-rootfs.sh).
std::string busybox_rootfs();
std::string debian_rootfs();

// Directories for one volt-run "installation" (root, units, settings, run) in a TempDir, and a
// way to run the real volt-run binary against them. The destructor deletes every container it
// created (delete --force) so a failed test does not leak cgroups or processes.
class Sandbox {
  public:
    Sandbox();
    ~Sandbox();
    RunResult volt(const std::vector<std::string>& args) const;
    // The same with more environment entries ("VOLT_FAULT=create:copy"), in the cgroup
    // directories `cgroups` when given (see run()).
    RunResult volt(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                   const std::vector<std::string>& cgroups = {}) const;
    // The sandbox's volt-run, started with the signals `ignored` set to SIG_IGN (see run()).
    RunResult volt_ignoring(const std::vector<int>& ignored,
                            const std::vector<std::string>& args) const;
    // `volt-run inspect --json NAME`, which must succeed.
    nlohmann::json inspect(const std::string& name) const;
    const TempDir& dir() const { return dir_; }
    std::string root() const { return dir_ / "root"; }
    std::string unit_dir() const { return dir_ / "units"; }
    std::string nspawn_dir() const { return dir_ / "nspawn"; }
    std::string run_dir() const { return dir_ / "run"; }
    std::vector<std::string> env() const;
    // The same directories as the library's Paths, for tests that call it or check its files.
    runtime::Paths paths() const;
    // A container name unique to this process, so parallel tests never share cgroups.
    std::string unique_name(const std::string& base) const;

  private:
    TempDir dir_;
};

// A container of the sandbox's from `image`, created with `extra`, and booted (--detach); the test
// ends if either fails. The sandbox deletes it.
void create_and_boot(const Sandbox& sb, const std::string& name, const std::string& image,
                     const std::vector<std::string>& extra = {});
// The same from the busybox test root, with --network none before `extra`.
void boot_busybox(const Sandbox& sb, const std::string& name,
                  const std::vector<std::string>& extra = {});

// Whether pid is a live process. A process that has exited counts as gone even while it waits
// to be reaped: orphans of the test (a detached nspawn) are reaped here, since every Sandbox
// makes the test a child subreaper.
bool process_alive(pid_t pid);

// Kills the sandbox's running container's systemd-nspawn with SIGKILL (as the OOM killer would),
// waits up to 5 s for it to be gone, and returns its pid. The test ends if it cannot.
pid_t kill_nspawn(const Sandbox& sb, const std::string& name);

// Our children, adopted orphans included (/proc/self/task/*/children).
std::vector<pid_t> children_of_self();
// Those of them whose comm is `comm` (a boot --detach's reaper is "volt-reaper").
std::vector<pid_t> children_named(const std::string& comm);

// volt-run ARGS run in the background against a sandbox, in a process group of its own (as a
// shell runs a job), stdin /dev/null, its output in a file; killed with its group and reaped at
// the end unless wait() saw it exit. Orphan reaping (process_alive) leaves it to wait().
class Background {
  public:
    // With the signals `ignored` set to SIG_IGN, as run() does.
    Background(const Sandbox& sb, const std::vector<std::string>& args,
               const std::vector<int>& ignored = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    pid_t pid() const { return pid_; }  // also its process group
    // Its exit code (128+N for signal N) once it exited, waiting up to timeout_ms; nullopt if
    // it still runs then.
    std::optional<int> wait(int timeout_ms);
    // What it wrote to stdout and stderr so far.
    std::string output() const;

  private:
    std::string output_;
    pid_t pid_ = -1;
    std::optional<int> code_;
};

// Whether any cgroup hierarchy has a directory of the container's (below each hierarchy's root
// or below the test's own cgroups, where boot puts volt.slice).
bool cgroups_left(const std::string& name);

// A tiny image in dir (an /etc with an os-release): enough for create, which does not boot it.
std::string tiny_image(const TempDir& dir);

// Every file and directory below path (relative names), for "nothing is left" assertions.
std::vector<std::string> tree(const std::string& path);

// Whether the nftables table volt-run keeps (in this network namespace) has a rule of owner's.
bool has_nft_rules_of(const std::string& owner);
// Whether a link of this network namespace carries the container's alias ("volt:NAME").
bool has_links_of(const std::string& name);

// What a container may leave on the host, as sorted lines to compare before and after: every
// file and directory below the sandbox's directories (type, mode, and a digest of a file's bytes:
// temporaries, locks and leases included), every cgroup directory whose path holds `name` in the
// hierarchies volt-run uses (cgroup2, name=systemd, devices), systemd-nspawn's propagation
// directory of the machine, the links (with their alias) and nftables rules of this network
// namespace, and the mounts of this mount namespace.
std::vector<std::string> host_snapshot(const Sandbox& sb, const std::string& name);

// The lines only in `before` ("- …") and only in `after` ("+ …"), for a failed comparison.
std::string snapshot_diff(const std::vector<std::string>& before,
                          const std::vector<std::string>& after);

// A crash-consistency sweep over the fault points of one volt-run command (VOLT_FAULT,
// base/fault.hpp), each command given as volt-run's arguments. `create` makes the container
// again once what a killed command left is deleted; `prepare` brings it to where `command`
// starts (nothing for create; create, then boot, for stop).
struct FaultSweep {
    std::vector<std::string> create;
    std::vector<std::vector<std::string>> prepare;
    std::vector<std::string> command;
    // When given, cgroups other than the test's that `prepare` and `command` run in
    // (OtherCgroups::paths()), while delete and create run in the test's own: what a killed
    // boot left below its cgroup must be found by a delete run from elsewhere, as from another
    // shell.
    std::vector<std::string> cgroups;
};

// A cgroup beside the test's own in every hierarchy volt-run uses (cgroup2, name=systemd,
// devices), at the same path in each, as systemd keeps a process's cgroups; removed at the end.
class OtherCgroups {
  public:
    explicit OtherCgroups(const std::string& base);
    ~OtherCgroups();
    OtherCgroups(const OtherCgroups&) = delete;
    OtherCgroups& operator=(const OtherCgroups&) = delete;
    const std::vector<std::string>& paths() const { return paths_; }

  private:
    std::vector<std::string> paths_;
};
// Runs the command once with VOLT_FAULT_TRACE to learn its points, in order (so a new step is
// covered without editing a test), then deletes the container: that run must succeed, name at
// least one point, and name each once; and what is left must name nothing of the container.
// Then for every point: create and prepare, run the command with VOLT_FAULT at that point, which
// must kill it there (SIGKILL, nothing traced after it; a point in a child the command forked,
// as boot --detach does, kills the child, and the command reports its exit status 137); then
// `delete --force` must succeed (or find nothing to remove, when nothing was made yet), and
// `create` again, and after one more delete the host must be as it was (host_snapshot). Returns
// the points.
std::vector<std::string> sweep_faults(const Sandbox& sb, const std::string& name,
                                      const FaultSweep& sweep);

// The one-line message of a result that must have failed.
template <class T>
std::string message_of(const Result<T>& r) {
    REQUIRE_FALSE(r.ok());
    return r.error().describe();
}

// The text of tests/golden/NAME; with VOLT_UPDATE_GOLDEN=1 it is (re)written from `actual` first,
// for a deliberate change whose diff is then reviewed.
std::string golden(const std::string& name, const std::string& actual);

// The volt-run binary under test.
std::string volt_run_binary();
// This process's environment with `env`'s entries, which replace inherited ones of the same name:
// getenv returns the first match, so an appended VOLT_ROOT would lose to one exported in the
// caller's shell, and the test would work on that shell's containers.
std::vector<std::string> environment_with(const std::vector<std::string>& env);

}  // namespace volt::test
