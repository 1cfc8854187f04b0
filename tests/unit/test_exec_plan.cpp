// The exec plan: what exec will do for a spec, its options and the facts of the running
// container, as a value.
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
    f.payload_cgroup_v1 = "/sys/fs/cgroup/systemd/volt.slice/volt-hybrid-web/payload";
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
    CHECK(plan->nspawn_filter.digest == seccomp::nspawn_restrictions_digest(0x000001fffdecbfffULL));
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

    Spec open = web();
    open.seccomp = "unconfined";
    auto unconfined = plan_exec(open, sh(), running_web());
    REQUIRE(unconfined);
    CHECK_FALSE(unconfined->seccomp);
    // nspawn's restrictions bind every guest process, unconfined or not.
    CHECK_FALSE(unconfined->nspawn_filter.digest.empty());
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
    CHECK(refused(sh({})) == "exec: no command given");
    ExecOptions env = sh();
    env.env = {"NOEQUALS"};
    CHECK(refused(env).find("--env") != std::string::npos);
    ExecOptions workdir = sh();
    workdir.workdir = "srv";
    CHECK(refused(workdir) == "--workdir: invalid value 'srv': must be absolute");
}
