#include <catch2/catch.hpp>

#include "runtime/plan/nspawn.hpp"
#include "runtime/verbs/devices.hpp"
#include "support.hpp"
#include "units/units.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

Spec full_spec() {
    Spec s;
    s.name = "web";
    s.init = InitKind::systemd;
    s.env = {"GREETING=hello world"};
    s.volumes = {{"/srv/data", "/data", false, "directory"},
                 {"/etc/ssl", "/etc/ssl", true, "directory"}};
    s.read_only = true;
    s.kernel = "/boot/vmlinuz-volt";
    s.network = NetworkMode::none;
    return s;
}

}  // namespace

TEST_CASE("the service unit matches the golden file byte for byte", "[unit]") {
    Paths p;
    p.root = "/srv/volt data";
    p.run_dir = "/run/volt-test";
    auto argv = unit_command("/usr/local/bin/volt-run", p);
    Spec spec;
    spec.devices = {{"/dev/sdb", "rw"}};
    const std::string unit = units::render_service({"web", argv, unit_device_allow(spec)});
    CHECK(unit == test::golden("volt-hybrid@web.service", unit));
    CHECK(units::service_name("web") == "volt-hybrid@web.service");
}

TEST_CASE("default paths are not repeated in ExecStart", "[unit]") {
    CHECK(unit_command("/usr/bin/volt-run", Paths{}) ==
          std::vector<std::string>{"/usr/bin/volt-run"});
    auto unit = units::render_service({"db", unit_command("/usr/bin/volt-run", Paths{}), {}});
    CHECK(unit.find("\nExecStart=/usr/bin/volt-run boot db\n") != std::string::npos);
    CHECK(unit.find("\nExecStopPost=/usr/bin/volt-run stop db\n") != std::string::npos);
}

TEST_CASE(".nspawn settings match the golden files byte for byte", "[unit]") {
    const std::string systemd = units::render_nspawn(nspawn_settings(full_spec()));
    CHECK(systemd == test::golden("web-systemd.nspawn", systemd));
    Spec bb;
    bb.name = "web";
    bb.init = InitKind::busybox;
    bb.private_users = false;
    bb.network = NetworkMode::host;
    const std::string busybox = units::render_nspawn(nspawn_settings(bb));
    CHECK(busybox == test::golden("web-busybox-host.nspawn", busybox));
}

TEST_CASE("ExecStart arguments are quoted the way systemd reads them", "[unit]") {
    CHECK(units::quote_exec_arg("plain") == "plain");
    CHECK(units::quote_exec_arg("two words") == "\"two words\"");
    CHECK(units::quote_exec_arg("100%") == "100%%");
    CHECK(units::quote_exec_arg("$HOME") == "$$HOME");
    CHECK(units::quote_exec_arg("a\"b") == "\"a\\\"b\"");
    CHECK(units::quote_exec_arg("a\\b") == "\"a\\\\b\"");
    CHECK(units::quote_exec_arg("") == "\"\"");
}

TEST_CASE("the nspawn command line for a spec", "[unit]") {
    Paths p;
    p.root = "/var/lib/volt";
    auto argv = nspawn_argv(full_spec(), p, BootHost{});
    CHECK(argv == std::vector<std::string>{
                      "/usr/bin/systemd-nspawn", "--quiet", "--boot", "--keep-unit",
                      "--machine=web", "--directory=/var/lib/volt/containers/web", "--register=no",
                      "--notify-ready=yes", "--private-users=pick", "--read-only",
                      "--setenv=VOLT_CONTAINER=web", "--setenv=VOLT_RUNTIME=hybrid",
                      "--setenv=VOLT_KERNEL=/boot/vmlinuz-volt", "--setenv=GREETING=hello world",
                      "--bind=/srv/data:/data", "--bind-ro=/etc/ssl:/etc/ssl",
                      "--private-network"});
    // private (and bridge) networks are built by boot, which starts nspawn inside them.
    auto built = full_spec();
    built.network = NetworkMode::private_net;
    BootHost prepared;
    prepared.network_prepared = true;
    CHECK(nspawn_argv(built, p, prepared).back() == "--resolv-conf=off");
    for (const auto& arg : nspawn_argv(built, p, prepared))
        CHECK(arg.rfind("--network", 0) != 0);

    Spec bb;
    bb.name = "bb";
    bb.init = InitKind::busybox;
    bb.private_users = false;
    bb.network = NetworkMode::host;
    BootHost with_bus;
    with_bus.system_bus = true;
    CHECK(nspawn_argv(bb, p, with_bus) ==
          std::vector<std::string>{"/usr/bin/systemd-nspawn", "--quiet", "--boot", "--keep-unit",
                                   "--machine=bb", "--directory=/var/lib/volt/containers/bb",
                                   "--link-journal=try-guest", "--notify-ready=no",
                                   "--private-users=no", "--kill-signal=SIGUSR2",
                                   "--setenv=VOLT_CONTAINER=bb", "--setenv=VOLT_RUNTIME=hybrid"});
}
