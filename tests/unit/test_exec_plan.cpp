// The exec plan: what exec will do for a spec, its options and the facts of the running
// container, as a value.
#include <algorithm>
#include <catch2/catch.hpp>

#include "runtime/plan/exec_plan.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

Spec web() {
    Spec s;
    s.name = "web";
    s.landlock = "server";
    s.seccomp = "default";
    s.env = {"APP=1", "PATH=/opt/app/bin:/usr/bin"};
    return s;
}

landlock::Plan server_plan(int abi) {
    auto policy = landlock::parse_policy(landlock::builtin_policy_text("server"), "server");
    REQUIRE(policy.ok());
    return landlock::plan(*policy, landlock::Part::exec, abi);
}

// A container on a hybrid host with its own user namespace, whose init has a lower open-files
// limit than the caller and a core limit the caller cannot raise to, as boot recorded it.
ExecFacts running_web() {
    ExecFacts f;
    f.payload_cgroup = "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web/payload";
    f.cap_bounding = 0x000001fffdecbfffULL;
    f.cap_effective = 0x000001fffdecbfffULL;
    f.foreign_user_namespace = true;
    for (auto& l : f.limits)
        l.theirs = l.ours = {1024, 4096};
    f.limits[RLIMIT_NOFILE].theirs = {512, 512};
    f.limits[RLIMIT_CORE].theirs = {0, RLIM_INFINITY};
    f.term = "xterm-256color";
    f.landlock = server_plan(7);
    f.seccomp_digest = seccomp::profile_digest(seccomp::builtin_profile_text("default"));
    f.seccomp_foreign_arches = false;  // the shipped profiles cover the native architecture
    return f;
}

ExecOptions sh(std::vector<std::string> argv = {"sh", "-c", "id"}) {
    ExecOptions o;
    o.argv = std::move(argv);
    return o;
}

}  // namespace

TEST_CASE("the exec plan of a command in a confined container on a hybrid host", "[unit]") {
    ExecOptions o = sh();
    o.env = {"APP=2", "DEBUG=1"};
    o.workdir = "/srv";
    auto plan = plan_exec(web(), o, running_web());
    REQUIRE(plan);
    CHECK(render(*plan) == test::golden("exec-plan-web.txt", render(*plan)));
    // The command's own --env wins over the container's, which wins over the defaults; PATH
    // from the container decides where the command is looked for.
    CHECK(plan->candidates == std::vector<std::string>{"/opt/app/bin/sh", "/usr/bin/sh"});
    // Only limits that differ are set, each with a fallback at our hard limit.
    REQUIRE(plan->limits.size() == 2);
    const auto& core = plan->limits[0].resource == RLIMIT_CORE ? plan->limits[0] : plan->limits[1];
    CHECK(core.wanted.rlim_max == RLIM_INFINITY);
    CHECK(core.capped.rlim_max == 4096);
    // The filters are named by what boot recorded: nothing to read or hash at exec.
    REQUIRE(plan->seccomp);
    CHECK(plan->seccomp->containers_own);
    CHECK(plan->seccomp->digest == running_web().seccomp_digest);
    CHECK(plan->seccomp->options.target.caps == running_web().cap_effective);
    // The profile kills other architectures' calls, so the restrictions cover the native one.
    CHECK_FALSE(plan->nspawn_filter.foreign_arches);
    CHECK(plan->nspawn_filter.digest ==
          seccomp::nspawn_restrictions_digest(0x000001fffdecbfffULL, false));
    // A profile that lets them through (or nothing recorded about it): every architecture.
    ExecFacts compat = running_web();
    compat.seccomp_foreign_arches = true;
    auto wide = plan_exec(web(), o, compat);
    REQUIRE(wide);
    CHECK(wide->nspawn_filter.foreign_arches);
    CHECK(wide->nspawn_filter.digest == seccomp::nspawn_restrictions_digest(0x000001fffdecbfffULL));
    ExecFacts unrecorded = running_web();
    unrecorded.seccomp_digest.clear();
    CHECK(plan_exec(web(), o, unrecorded)->nspawn_filter.foreign_arches);
}

TEST_CASE("exec --seccomp and unconfined containers plan the filters they need", "[unit]") {
    ExecOptions o = sh({"/bin/true"});
    o.seccomp = "/etc/volt/other.json";
    auto plan = plan_exec(web(), o, running_web());
    REQUIRE(plan);
    REQUIRE(plan->seccomp);
    // Another profile than the container's: read and hashed, never taken for the recorded one.
    CHECK(plan->seccomp->profile == "/etc/volt/other.json");
    CHECK_FALSE(plan->seccomp->containers_own);
    CHECK(plan->seccomp->digest.empty());
    CHECK(plan->candidates == std::vector<std::string>{"/bin/true"});
    // What that profile does with other architectures is not known here: the restrictions
    // cover them all.
    CHECK(plan->nspawn_filter.foreign_arches);

    Spec open = web();
    open.seccomp = "unconfined";
    auto unconfined = plan_exec(open, sh(), running_web());
    REQUIRE(unconfined);
    CHECK_FALSE(unconfined->seccomp);
    // nspawn's restrictions bind every guest process, unconfined or not.
    CHECK_FALSE(unconfined->nspawn_filter.digest.empty());
    CHECK(unconfined->nspawn_filter.foreign_arches);
    CHECK(unconfined->no_new_privs);
    o.allow_new_privileges = true;
    CHECK_FALSE(plan_exec(web(), o, running_web())->no_new_privs);
}

TEST_CASE("a required Landlock policy the kernel cannot enforce refuses the exec plan", "[unit]") {
    Spec s = web();
    s.landlock_mode = LandlockMode::require;
    ExecFacts f = running_web();
    f.landlock = server_plan(3);  // no network rules, no scopes
    REQUIRE_FALSE(f.landlock.complete());
    auto plan = plan_exec(s, sh(), f);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().describe().find("Landlock policy server is required but") !=
          std::string::npos);
    // exec --landlock-mode best-effort overrides the container's mode for one command.
    ExecOptions o = sh();
    o.landlock_mode = LandlockMode::best_effort;
    CHECK(plan_exec(s, o, f).ok());
}

TEST_CASE("exec options are refused before anything is planned, naming the option", "[unit]") {
    auto refused = [](const ExecOptions& o) {
        auto plan = plan_exec(web(), o, running_web());
        REQUIRE_FALSE(plan);
        CHECK(plan.error().kind() == ErrorKind::usage);
        CHECK(check_exec_options(o).error().describe() == plan.error().describe());
        return plan.error().describe();
    };
    ExecOptions detached_tty = sh();
    detached_tty.detach = detached_tty.tty = true;
    CHECK(refused(detached_tty) == "--detach cannot be combined with --tty");
    ExecOptions env = sh();
    env.env = {"NOEQUALS"};
    CHECK(refused(env).find("--env") != std::string::npos);
    ExecOptions workdir = sh();
    workdir.workdir = "srv";
    CHECK(refused(workdir) == "--workdir: invalid value 'srv': must be absolute");
}

namespace {

// A container's account files as a hostile image might have them: comments, NIS lines, short
// and overlong lines, a bad number, a duplicate name.
constexpr const char* kPasswd =
    "# users\n"
    "root:x:0:0:root:/root:/bin/ash\n"
    "+nis::0:0:::\n"
    "short:x:5\n"
    "bad:x:12a:1:::/bin/sh\n"
    "www:x:33:33:www-data:/var/www:\n"
    "www:x:34:34:second www:/nope:/bin/false\n"
    "app:x:1000:1000:App,,,:/home/app:/bin/bash\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "adm:x:4:app,www\n"
    "tty:x:5:\n"
    "www:x:33:\n"
    "dev:x:20:app\n"
    "app:x:1000:\n";

}  // namespace

TEST_CASE("exec --user is resolved from the container's passwd and group files", "[unit]") {
    auto root = resolve_user("", kPasswd, kGroup);
    REQUIRE(root.ok());
    CHECK(root->name == "root");
    CHECK(root->uid == 0);
    CHECK(root->shell == "/bin/ash");
    CHECK(root->groups == std::vector<gid_t>{0});
    // By name: the primary group and every group listing the user; the first entry wins.
    auto app = resolve_user("app", kPasswd, kGroup);
    REQUIRE(app.ok());
    CHECK(app->uid == 1000);
    CHECK(app->gid == 1000);
    CHECK(app->home == "/home/app");
    CHECK(app->shell == "/bin/bash");
    CHECK(app->groups == std::vector<gid_t>{1000, 4, 20});
    auto www = resolve_user("www", kPasswd, kGroup);
    REQUIRE(www.ok());
    CHECK(www->uid == 33);
    CHECK(www->shell == "/bin/sh");  // empty in passwd
    // By number, listed or not, and with a group by name or number.
    CHECK(resolve_user("1000", kPasswd, kGroup)->name == "app");
    auto unknown = resolve_user("4242", kPasswd, kGroup);
    REQUIRE(unknown.ok());
    CHECK(unknown->name.empty());
    CHECK(unknown->gid == 4242);
    CHECK(unknown->home == "/");
    CHECK(resolve_user("app:adm", kPasswd, kGroup)->gid == 4);
    CHECK(resolve_user("33:77", kPasswd, kGroup)->groups == std::vector<gid_t>{77, 4});
    // Root without a passwd entry (no /etc/passwd at all).
    auto bare = resolve_user("", "", "");
    REQUIRE(bare.ok());
    CHECK(bare->home == "/root");
    CHECK(bare->shell == "/bin/sh");
    // Refused, naming the value: unknown names, malformed lines that only look like entries,
    // empty parts, -1 (no id), control bytes.
    for (const char* bad :
         {"nobody", "short", "bad", "+nis", "app:nogroup", "app:", ":adm", "4294967295", "a\nb"}) {
        auto r = resolve_user(bad, kPasswd, kGroup);
        INFO(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind() == ErrorKind::usage);
        CHECK(r.error().describe().starts_with("--user: invalid value '"));
    }
}

TEST_CASE("the exec plan runs the user's shell with its HOME and USER when no command is given",
          "[unit]") {
    ExecFacts f = running_web();
    f.passwd = kPasswd;
    f.group = kGroup;
    ExecOptions o;
    o.user = "app";
    o.tty = o.interactive = true;
    REQUIRE(needs_account_files(o));
    auto plan = plan_exec(web(), o, f);
    REQUIRE(plan.ok());
    CHECK(plan->argv == std::vector<std::string>{"/bin/bash"});
    CHECK(plan->candidates == std::vector<std::string>{"/bin/bash"});
    CHECK(std::count(plan->env.begin(), plan->env.end(), "HOME=/home/app") == 1);
    CHECK(std::count(plan->env.begin(), plan->env.end(), "USER=app") == 1);
    REQUIRE(plan->user);
    CHECK(plan->user->uid == 1000);
    CHECK(plan->tty);
    CHECK(plan->forward_stdin);
    CHECK(render(*plan).find("user app uid 1000 gid 1000 groups 1000,4,20\n") != std::string::npos);
    // Without --user the command is root, without a switch of ids, and reads no account files.
    CHECK_FALSE(needs_account_files(sh()));
    auto as_root = plan_exec(web(), sh(), running_web());
    REQUIRE(as_root.ok());
    CHECK_FALSE(as_root->user);
    CHECK(std::count(as_root->env.begin(), as_root->env.end(), "HOME=/root") == 1);
}

TEST_CASE("the exec Landlock plan grants each volume what its mount allows", "[unit]") {
    auto policy = landlock::parse_policy(landlock::builtin_policy_text("server"), "server");
    REQUIRE(policy.ok());
    Spec s = web();
    s.volumes = {Volume{"/srv/data", "/data", false, "directory", true},
                 Volume{"/srv/conf", "/etc/app", true, "directory", true}};
    namespace r = landlock::fs_right;
    const landlock::Plan bare = landlock::plan(*policy, landlock::Part::exec, 7);
    const landlock::Plan plan = exec_landlock_plan(*policy, s, 7);
    REQUIRE(plan.paths.size() == bare.paths.size() + 2);
    const landlock::PathRule& data = plan.paths[plan.paths.size() - 2];
    const landlock::PathRule& conf = plan.paths.back();
    CHECK(data.path == "/data");
    CHECK((data.rights & r::write_file) != 0);
    CHECK((data.rights & r::make_reg) != 0);
    CHECK((data.rights & r::remove_file) != 0);
    CHECK((data.rights & r::make_block) == 0);
    CHECK((data.rights & ~plan.handled_fs) == 0);
    CHECK(conf.path == "/etc/app");
    CHECK(conf.rights == ((r::read_file | r::read_dir | r::execute) & plan.handled_fs));
    // Rights an older ABI cannot handle are not asked for: ABI 1 knows no truncate.
    const landlock::Plan abi1 = exec_landlock_plan(*policy, s, 1);
    CHECK((abi1.paths[abi1.paths.size() - 2].rights & r::truncate) == 0);
    // Nothing to enforce (no Landlock): nothing is added.
    CHECK(exec_landlock_plan(*policy, s, 0) == landlock::plan(*policy, landlock::Part::exec, 0));
}
