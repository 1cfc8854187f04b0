// Soak and concurrency: many lifecycles of one name, and many containers at once, each in a
// private network, and afterwards nothing has grown: mounts, cgroups, links, nftables rules,
// leases, files, or the file descriptors of whoever runs volt-run. Each case runs in the fresh
// network and mount namespaces tests/ns-run gives it, which play the host.
//
// Sizes come from the environment so that CI runs a short soak and docs/RELIABILITY.md records a
// long one: VOLT_SOAK_CYCLES (default 30) and VOLT_SOAK_PARALLEL (default 20).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;
using nlohmann::json;

namespace {

constexpr std::uint16_t kAnswerPort = 7777;

// A TCP server of the host (the test's network namespace, any address, so the bridge's address
// too once it exists) that answers every connection with "answered\n": what a guest reaching
// its gateway across the veth gets back.
class Answerer {
  public:
    Answerer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(kAnswerPort);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 64) == 0);
        thread_ = std::thread([fd = fd_] {
            for (;;) {
                int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0)
                    return;  // shut down
                (void)!::write(c, "answered\n", 9);
                ::close(c);
            }
        });
    }
    ~Answerer() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    Answerer(const Answerer&) = delete;
    Answerer& operator=(const Answerer&) = delete;

  private:
    int fd_ = -1;
    std::thread thread_;
};

// Bytes from the guest to the host across the veth and back (busybox's nc: no raw sockets).
std::string reach_gateway(const test::Sandbox& sb, const std::string& name) {
    auto r = sb.volt(
        {"exec", name, "--", "timeout", "10", "nc", "10.88.0.1", std::to_string(kAnswerPort)});
    if (r.code != 0 || r.out != "answered\n")
        return "no answer from the gateway to " + name + " (exit " + std::to_string(r.code) +
               "): " + r.out + r.err;
    return "";
}

// Once every run is over: the detached boots' reapers (children of ours, the test being a
// subreaper) have collected and exited, and every orphan is reaped; true when none is left.
bool reapers_gone() {
    for (int i = 0; i < 300; ++i) {
        (void)test::process_alive(1);  // reaps the orphans that have exited
        if (test::children_named("volt-reaper").empty())
            return true;
        ::usleep(100 * 1000);
    }
    return false;
}

int from_environment(const char* name, int fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v)
        return fallback;
    int n = std::atoi(v);
    return n > 0 ? n : fallback;
}

std::size_t entries_of(const std::string& dir) {
    std::size_t n = 0;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d))
            if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..")
                ++n;
        ::closedir(d);
    }
    return n;
}

// What a run of volt-run can leave on the host (test::host_snapshot: files, the cgroups naming
// `marker`, links, nftables rules, mounts), and the descriptors of the process running volt-run.
std::vector<std::string> snapshot(const test::Sandbox& sb, const std::string& marker) {
    auto lines = test::host_snapshot(sb, marker);
    lines.push_back("fds " + std::to_string(entries_of("/proc/self/fd")));
    return lines;
}

// One whole lifecycle in a private network; "" when every step did as it should, else what
// went wrong. Runs on any thread: no Catch2 assertion in here.
std::string lifecycle(const test::Sandbox& sb, const std::string& name, std::string* address) {
    auto step = [&](const std::vector<std::string>& args) -> std::string {
        auto r = sb.volt(args);
        if (r.code != 0)
            return args[0] + " " + name + " exited " + std::to_string(r.code) + ": " + r.err;
        return "";
    };
    if (auto e = step({"create", name, "--image", test::busybox_rootfs(), "--network", "private"});
        !e.empty())
        return e;
    if (auto e = step({"boot", "--detach", "--timeout", "120", name}); !e.empty())
        return e;
    if (address) {
        auto info = sb.volt({"inspect", "--json", name});
        auto parsed = json::parse(info.out, nullptr, false);
        if (info.code != 0 || !parsed.is_object() || !parsed.contains("network"))
            return "inspect " + name + " exited " + std::to_string(info.code) + ": " + info.err;
        *address = parsed["network"].value("address", "");
    }
    if (auto e = reach_gateway(sb, name); !e.empty())
        return e;
    if (auto e = step({"stop", "--time", "20", name}); !e.empty())
        return e;
    return step({"delete", name});
}

}  // namespace

TEST_CASE("soak: many create, boot, exec, stop, delete cycles of one name grow nothing", "[soak]") {
    test::require_container_host();
    Answerer answerer;
    const int cycles = from_environment("VOLT_SOAK_CYCLES", 30);
    test::Sandbox sb;
    const std::string name = sb.unique_name("soak");
    // The first cycle makes what every later one shares (the bridge, the nftables table, the
    // lease file's header, the filter cache); growth is counted from there.
    REQUIRE(lifecycle(sb, name, nullptr).empty());
    REQUIRE(reapers_gone());
    const auto first = snapshot(sb, name);
    std::set<std::string> addresses;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 1; i < cycles; ++i) {
        std::string address;
        std::string failed = lifecycle(sb, name, &address);
        INFO("cycle " << i);
        REQUIRE(failed == "");
        addresses.insert(address);
        (void)test::process_alive(1);  // reaps this cycle's exited nspawn and reaper
    }
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    // For docs/RELIABILITY.md: the rate, never asserted.
    WARN(cycles << " cycles, " << (cycles > 1 ? took.count() / (cycles - 1) : 0) << " s a cycle");
    CHECK(reapers_gone());
    const auto last = snapshot(sb, name);
    CHECK(test::snapshot_diff(first, last) == "");
    // Released and leased again: one name keeps coming back to the same address.
    if (cycles > 1)
        CHECK(addresses.size() == 1);
}

TEST_CASE(
    "concurrency: containers created, booted, exec'd, stopped and deleted in parallel in "
    "private networks, with no collision and nothing left",
    "[soak]") {
    test::require_container_host();
    Answerer answerer;
    const int parallel = from_environment("VOLT_SOAK_PARALLEL", 20);
    test::Sandbox sb;
    const std::string marker = sb.unique_name("par");
    // One container first, so that the shared bridge and table exist in both snapshots.
    REQUIRE(lifecycle(sb, marker + "-0", nullptr).empty());
    REQUIRE(reapers_gone());
    const auto before = snapshot(sb, marker);

    std::vector<std::string> failures(static_cast<std::size_t>(parallel));
    std::vector<std::thread> threads;
    for (int i = 0; i < parallel; ++i)
        threads.emplace_back([&, i] {
            failures[static_cast<std::size_t>(i)] =
                lifecycle(sb, marker + "-" + std::to_string(i + 1), nullptr);
        });
    for (auto& t : threads)
        t.join();
    for (int i = 0; i < parallel; ++i) {
        INFO("container " << i + 1);
        CHECK(failures[static_cast<std::size_t>(i)] == "");
    }
    CHECK(reapers_gone());
    const auto after = snapshot(sb, marker);
    CHECK(test::snapshot_diff(before, after) == "");
}

TEST_CASE(
    "concurrency: containers running at once have distinct addresses and all reach the "
    "gateway",
    "[soak]") {
    test::require_container_host();
    Answerer answerer;
    const int parallel = from_environment("VOLT_SOAK_PARALLEL", 20);
    test::Sandbox sb;
    const std::string marker = sb.unique_name("run");
    std::vector<std::string> names;
    for (int i = 0; i < parallel; ++i)
        names.push_back(marker + "-" + std::to_string(i));
    std::vector<std::string> failures(names.size());
    auto in_parallel = [&](auto&& each) {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < names.size(); ++i)
            threads.emplace_back([&, i] { failures[i] = each(names[i]); });
        for (auto& t : threads)
            t.join();
        for (std::size_t i = 0; i < names.size(); ++i) {
            INFO(names[i]);
            REQUIRE(failures[i] == "");
        }
    };
    auto quiet = [&](const std::vector<std::string>& args) {
        auto r = sb.volt(args);
        return r.code == 0 ? std::string()
                           : args[0] + " exited " + std::to_string(r.code) + ": " + r.err;
    };
    in_parallel([&](const std::string& n) {
        return quiet({"create", n, "--image", test::busybox_rootfs(), "--network", "private"});
    });
    in_parallel([&](const std::string& n) {
        return quiet({"boot", "--detach", "--timeout", "120", n});
    });
    // All of them up at once: each address once, each guest reaches the bridge.
    std::set<std::string> addresses;
    for (const auto& n : names) {
        json info = sb.inspect(n);
        REQUIRE(info["state"] == "running");
        addresses.insert(info["network"]["address"].get<std::string>());
    }
    CHECK(addresses.size() == names.size());
    in_parallel([&](const std::string& n) { return reach_gateway(sb, n); });
    in_parallel([&](const std::string& n) { return quiet({"stop", "--time", "20", n}); });
    in_parallel([&](const std::string& n) { return quiet({"delete", n}); });
    CHECK(reapers_gone());
    for (const auto& n : names) {
        CHECK_FALSE(test::cgroups_left(n));
        CHECK_FALSE(test::has_nft_rules_of(n));
    }
}
