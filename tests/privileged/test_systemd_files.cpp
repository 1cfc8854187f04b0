// The rendered unit and settings file, read by the real systemd tools.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/verbs/devices.hpp"
#include "support.hpp"
#include "units/units.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

Spec busy_spec(const std::string& name) {
    Spec s;
    s.name = name;
    s.init = InitKind::busybox;
    s.env = {"A=1", "B=two words"};
    s.volumes = {{"/tmp", "/data", false, "directory"}, {"/etc", "/host-etc", true, "directory"}};
    s.read_only = true;
    s.network = NetworkMode::none;
    return s;
}

}  // namespace

TEST_CASE("systemd-analyze verify accepts the unit without a warning", "[privileged]") {
    test::skip_unless(test::have_program("/usr/bin/systemd-analyze"), "systemd-analyze");
    test::TempDir dir;
    Paths p;
    p.root = dir / "data root";  // a space: quoting must survive
    std::string unit = dir / units::service_name("web");
    auto exec = unit_command(test::volt_run_binary(), p);
    runtime::Spec spec;
    spec.devices = {{"/dev/loop-control", "rw"}};
    REQUIRE(fs::write_file_atomic(
                unit, units::render_service({"web", exec, runtime::unit_device_allow(spec)}))
                .ok());
    auto r = test::run({"/usr/bin/systemd-analyze", "verify", "--man=no", unit});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.empty());
}

TEST_CASE("systemd-nspawn reads the .nspawn file with no unknown section or key", "[privileged]") {
    test::skip_unless(test::have_program(kNspawnPath), "systemd-nspawn");
    // /run/systemd/nspawn is one of the places nspawn reads settings from; this test runs in a
    // mount namespace of its own (tests/ns-run), so a tmpfs there hides nothing of the host's.
    test::skip_unless(::unshare(CLONE_NEWNS) == 0 &&
                          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0,
                      "a private mount namespace");
    REQUIRE(fs::mkdir_p("/run/systemd/nspawn").ok());
    REQUIRE(::mount("tmpfs", "/run/systemd/nspawn", "tmpfs", 0, "mode=0755") == 0);
    for (bool private_users : {true, false}) {
        std::string name = "volt-settings-" + std::to_string(private_users);
        Spec s = busy_spec(name);
        s.private_users = private_users;
        REQUIRE(fs::write_file_atomic("/run/systemd/nspawn/" + name + ".nspawn",
                                      units::render_nspawn(nspawn_settings(s)))
                    .ok());
        // A directory that does not exist: nspawn loads and checks the settings, then stops at
        // the directory, so nothing boots.
        auto r = test::run({kNspawnPath, "--machine=" + name, "--directory=/nonexistent-volt",
                            "--register=no", "--keep-unit", "--quiet"});
        INFO(r.err);
        CHECK(r.code != 0);
        CHECK(r.err.find("Unknown") == std::string::npos);
        CHECK(r.err.find("Failed to parse") == std::string::npos);
        CHECK(r.err.find("may not be combined") == std::string::npos);
        CHECK(r.err == "Failed to resolve path /nonexistent-volt: No such file or directory\n");
    }
}
