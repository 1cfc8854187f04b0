// seccomp on booted containers: exec'd commands are bound by the container's profile (or the
// one exec names), and systemd guests boot to READY under the shipped default and strict.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>

#include "base/fs.hpp"
#include "seccomp-profiles/seccomp.hpp"
#include "support.hpp"

using namespace volt;

namespace {

void require_facilities() {
    test::require_container_host();
}

// Creates NAME with the seccomp profile, puts the try-syscall probe (statically linked) into its
// /usr/bin, and boots it.
void boot_with_probe(const test::Sandbox& sb, const std::string& name, const std::string& profile) {
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none",
                      "--seccomp", profile});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto probe = fs::read_file(VOLT_TRY_SYSCALL);
    REQUIRE(probe.ok());
    REQUIRE(fs::write_file_atomic(sb.root() + "/containers/" + name + "/usr/bin/try-syscall",
                                  *probe, 0755)
                .ok());
    r = sb.volt({"boot", "--detach", name});
    INFO("boot: " << r.err);
    REQUIRE(r.code == 0);
}

}  // namespace

TEST_CASE("exec under strict: denied syscalls get the profile's errno", "[e2e]") {
    require_facilities();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("sc");
    boot_with_probe(sb, name, "strict");
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "getpid"}).code == 0);
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "swapon"}).code == EPERM);
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "ptrace"}).code == EPERM);
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "clone3"}).code == ENOSYS);
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "personality", "0x400000"}).code == ENOSYS);
    // exec may name another profile: default allows ptrace (the kernel says ESRCH).
    CHECK(sb.volt({"exec", "--seccomp", "default", name, "--", "try-syscall", "ptrace"}).code ==
          ESRCH);
    // exec'd commands are children of volt-run, not of the guest: unconfined means no filter.
    CHECK(sb.volt({"exec", "--seccomp", "unconfined", name, "--", "try-syscall", "ptrace"}).code ==
          ESRCH);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("exec finds the filter by what boot recorded, and never runs unconfined for want of it",
          "[e2e]") {
    require_facilities();
    REQUIRE(fs::is_directory(test::busybox_rootfs()));
    test::Sandbox sb;
    std::string name = sb.unique_name("sr");
    // A custom profile: the strict one, from a file (create keeps a copy).
    const std::string profile = sb.dir() / "mine.json";
    REQUIRE(
        fs::write_file_atomic(profile, std::string(seccomp::builtin_profile_text("strict"))).ok());
    boot_with_probe(sb, name, profile);
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "swapon"}).code == EPERM);
    // The plan names the filter by the digest boot recorded.
    auto r = sb.volt({"-vv", "exec", name, "--", "true"});
    CHECK(r.code == 0);
    CHECK(r.err.find("seccomp " + profile + " for caps ") != std::string::npos);
    CHECK(r.err.find(", digest " + seccomp::profile_digest(*fs::read_file(profile))) !=
          std::string::npos);
    CHECK(r.err.find("(compiled)") == std::string::npos);
    // The strict profile's text names no compat ABI: boot recorded that, exec covers nspawn's
    // restrictions for the native architecture alone, and inspect says so.
    CHECK(r.err.find("|native, unknown names warn") != std::string::npos);
    auto shown = sb.inspect(name);
    CHECK_THAT(shown.at("enforcement").at("seccomp").get<std::string>(),
               Catch::Contains("native architecture only"));
    // Without create's copy of the profile, exec still finds the compiled filter by the digest:
    // it reads no profile.
    const std::string stored = sb.root() + "/config/" + name + "/seccomp.json";
    REQUIRE(fs::exists(stored));
    REQUIRE(fs::remove_tree(stored).ok());
    CHECK(sb.volt({"exec", name, "--", "try-syscall", "swapon"}).code == EPERM);
    // Without the cache too, exec must read the profile, cannot, and refuses: never unconfined.
    REQUIRE(fs::remove_tree(sb.root() + "/cache/seccomp").ok());
    r = sb.volt({"exec", name, "--", "try-syscall", "swapon"});
    CHECK(r.code == 125);
    CHECK(r.err.find("reading seccomp profile") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    REQUIRE(sb.volt({"stop", name}).code == 0);
    REQUIRE(sb.volt({"delete", name}).code == 0);
}

TEST_CASE("systemd boots to READY under the shipped default and strict profiles", "[e2e]") {
    require_facilities();
    REQUIRE(fs::is_directory(test::debian_rootfs()));
    // The guest's init carries nspawn's own filters, plus volt-run's from boot unless unconfined.
    std::map<std::string, int> filters_of_init;
    for (const char* profile : {"unconfined", "default", "strict"}) {
        INFO(profile);
        test::Sandbox sb;
        std::string name = sb.unique_name(std::string("sc") + profile);
        auto r = sb.volt({"create", name, "--image", test::debian_rootfs(), "--network", "none",
                          "--seccomp", profile});
        INFO(r.err);
        REQUIRE(r.code == 0);
        r = sb.volt({"boot", "--detach", "--timeout", "90", name});
        INFO("boot: " << r.err);
        REQUIRE(r.code == 0);
        r = sb.volt({"exec", name, "--", "systemctl", "is-system-running", "--wait"});
        INFO(r.out << r.err);
        CHECK((r.out == "running\n" || r.out == "degraded\n"));
        r = sb.volt(
            {"exec", name, "--", "sed", "-n", "s/^Seccomp_filters:\t//p", "/proc/1/status"});
        REQUIRE(r.code == 0);
        filters_of_init[profile] = std::atoi(r.out.c_str());
        REQUIRE(sb.volt({"stop", name}).code == 0);
        REQUIRE(sb.volt({"delete", name}).code == 0);
    }
    CHECK(filters_of_init["default"] == filters_of_init["unconfined"] + 1);
    CHECK(filters_of_init["strict"] == filters_of_init["unconfined"] + 1);
}
