// volt-run bench --compare's pure peer parts: bare nspawn's argv, READY in a notify datagram and
// the crun container's config.json.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/plan/bench_peers.hpp"

using namespace volt::runtime;

TEST_CASE("bench bare nspawn argv mirrors the container's choices", "[unit]") {
    BareNspawnPlan p{.nspawn = "/usr/bin/systemd-nspawn",
                     .root = "/var/tmp/b/peer-root",
                     .machine = "vb-1-nspawn",
                     .init = InitKind::systemd,
                     .private_users = true,
                     .private_network = true,
                     .system_bus = false};
    CHECK(bare_nspawn_argv(p) ==
          std::vector<std::string>{"/usr/bin/systemd-nspawn", "--quiet", "--boot", "--keep-unit",
                                   "--machine=vb-1-nspawn", "--directory=/var/tmp/b/peer-root",
                                   "--register=no", "--notify-ready=yes", "--private-users=pick",
                                   "--network-veth"});
    // A busybox guest without a user namespace or network, on a host with machined.
    p.init = InitKind::busybox;
    p.private_users = false;
    p.private_network = false;
    p.system_bus = true;
    CHECK(bare_nspawn_argv(p) ==
          std::vector<std::string>{"/usr/bin/systemd-nspawn", "--quiet", "--boot", "--keep-unit",
                                   "--machine=vb-1-nspawn", "--directory=/var/tmp/b/peer-root",
                                   "--notify-ready=no", "--private-users=no",
                                   "--kill-signal=SIGUSR2", "--private-network"});
}

TEST_CASE("bench notify datagrams say READY only with a READY=1 line", "[unit]") {
    CHECK(notify_says_ready("READY=1"));
    CHECK(notify_says_ready("READY=1\n"));
    CHECK(notify_says_ready("STATUS=Container running.\nREADY=1\nX_NSPAWN_LEADER_PID=42"));
    CHECK_FALSE(notify_says_ready(""));
    CHECK_FALSE(notify_says_ready("STATUS=READY=1"));
    CHECK_FALSE(notify_says_ready("READY=10"));
    CHECK_FALSE(notify_says_ready("XREADY=1\nREADY=0"));
    CHECK_FALSE(notify_says_ready(std::string_view("READY=1\0", 8)));
}

TEST_CASE("bench crun config.json is an OCI spec of a read-only long-running container", "[unit]") {
    auto j = nlohmann::json::parse(crun_config({.rootfs = "/var/tmp/b/peer-crun/bundle/rootfs",
                                                .hostname = "vb-1-crun",
                                                .cgroups_path = "/vb-1-crun",
                                                .args = {"sleep", "86400"}}));
    CHECK(j["ociVersion"] == "1.0.0");
    CHECK(j["process"]["args"] == nlohmann::json::array({"sleep", "86400"}));
    CHECK(j["process"]["terminal"] == false);
    CHECK(j["process"]["user"]["uid"] == 0);
    CHECK(j["process"]["noNewPrivileges"] == true);
    CHECK(j["root"]["path"] == "/var/tmp/b/peer-crun/bundle/rootfs");
    CHECK(j["root"]["readonly"] == true);
    CHECK(j["hostname"] == "vb-1-crun");
    CHECK(j["linux"]["cgroupsPath"] == "/vb-1-crun");
    // No resources: crun would load a device program, which needs CAP_SYS_RESOURCE.
    CHECK_FALSE(j["linux"].contains("resources"));
    std::vector<std::string> ns;
    for (const auto& n : j["linux"]["namespaces"])
        ns.push_back(n["type"]);
    CHECK(ns == std::vector<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"});
    std::vector<std::string> dst;
    for (const auto& m : j["mounts"])
        dst.push_back(m["destination"]);
    CHECK(dst == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                          "/sys", "/sys/fs/cgroup"});
}
