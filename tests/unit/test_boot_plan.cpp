// The boot plan: what boot will do for a spec and the host's facts, as a value.
#include <catch2/catch.hpp>

#include "runtime/plan/boot_plan.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

Spec web() {
    Spec s;
    s.name = "web";
    s.init = InitKind::systemd;
    s.network = NetworkMode::private_net;
    s.resources.memory_max = 512ULL << 20;
    s.resources.pids_max = 200;
    s.kernel = "/boot/vmlinuz-volt";
    return s;
}

// A hybrid host: cgroup2 at /sys/fs/cgroup/unified, v1 name=systemd and devices beside it.
BootFacts hybrid_host() {
    BootFacts f;
    f.mount_unified = "/sys/fs/cgroup/unified";
    f.self_unified = "/user.slice/session-1.scope";
    f.mount_v1 = "/sys/fs/cgroup/systemd";
    f.self_v1 = "/user.slice/session-1.scope";
    f.mount_devices = "/sys/fs/cgroup/devices";
    // A string, not a literal: GCC 12 at -O3 warns wrongly (-Wrestrict) on assigning "/" here.
    f.self_devices = std::string("/");
    f.devices = {{'c', 1, 3, cgroup::kDeviceAll}};
    auto policy = landlock::parse_policy(landlock::builtin_policy_text("server"), "server");
    REQUIRE(policy.ok());
    f.landlock_policy = *policy;
    f.landlock_abi = 7;
    return f;
}

}  // namespace

TEST_CASE("the boot plan of a private-network container on a hybrid host", "[unit]") {
    Paths p;
    auto plan = plan_boot(web(), p, hybrid_host());
    REQUIRE(plan);
    CHECK(render(*plan) == test::golden("boot-plan-web.txt", render(*plan)));
    const Placement& pl = plan->placement;
    CHECK(pl.unified ==
          "/sys/fs/cgroup/unified/user.slice/session-1.scope/volt.slice/volt-hybrid-web");
    CHECK(pl.origin_unified == "/sys/fs/cgroup/unified/user.slice/session-1.scope");
    // The root cgroup of a hierarchy is "/": no doubled slash below it.
    CHECK(pl.devices == "/sys/fs/cgroup/devices/volt.slice/volt-hybrid-web");
    CHECK(pl.origin_devices == "/sys/fs/cgroup/devices/");
    CHECK_FALSE(pl.under_systemd);
    CHECK(plan->builds_network);
    // nspawn starts inside the network boot built: no network option of its own.
    for (const auto& a : plan->nspawn_argv)
        CHECK(a.rfind("--network", 0) != 0);
    REQUIRE(plan->warnings.size() == 1);
    CHECK(plan->warnings[0].find("--kernel /boot/vmlinuz-volt is recorded only") !=
          std::string::npos);
}

TEST_CASE("under its own unit the container's cgroup is the unit's container/ leaf", "[unit]") {
    BootFacts f = hybrid_host();
    f.self_unified = "/system.slice/system-volt\\x2dhybrid.slice/volt-hybrid@web.service";
    f.invoked_by_systemd = true;
    auto plan = plan_boot(web(), Paths{}, f);
    REQUIRE(plan);
    CHECK(plan->placement.under_systemd);
    CHECK(plan->placement.unified ==
          std::string("/sys/fs/cgroup/unified").append(f.self_unified).append("/container"));
    // The v1 devices controller is systemd's there (DevicePolicy=, DeviceAllow=).
    CHECK(plan->placement.devices.empty());
    // The same cgroup without INVOCATION_ID is somebody running boot by hand inside it.
    f.invoked_by_systemd = false;
    CHECK_FALSE(plan_boot(web(), Paths{}, f)->placement.under_systemd);
    // ExecStopPost= runs in the unit's .control leaf.
    CHECK(in_own_unit("web", true, f.self_unified + "/.control"));
    CHECK_FALSE(in_own_unit("web2", true, f.self_unified));
}

TEST_CASE("a required Landlock policy the kernel cannot enforce refuses the plan", "[unit]") {
    Spec s = web();
    s.landlock = "server";
    s.landlock_mode = LandlockMode::require;
    BootFacts f = hybrid_host();
    f.landlock_policy->scopes = 0x3;  // abstract unix sockets and signals
    f.landlock_abi = 5;               // scopes came with ABI 6
    auto plan = plan_boot(s, Paths{}, f);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().describe().find("is required but") != std::string::npos);
    s.landlock_mode = LandlockMode::best_effort;
    auto relaxed = plan_boot(s, Paths{}, f);
    REQUIRE(relaxed);
    CHECK_FALSE(relaxed->landlock.complete());
}
