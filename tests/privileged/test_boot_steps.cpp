// boot carries out its plan step by step (base/steps.hpp): a failure at any step undoes exactly
// the steps before it. Each case fails one step in turn, in a child that runs runtime::boot
// in-process (boot moves the calling process into the container's cgroups and network
// namespace), and shows that nothing of the container is left on the host afterwards and that
// the process is back where it was.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "netlink/names.hpp"
#include "runtime/verbs/container.hpp"
#include "support.hpp"

using namespace volt;

namespace {

// What the child reports: the steps it entered, then whether it ended as it should.
struct Outcome {
    std::vector<std::string> steps;
    bool failed_as_injected = false;
    bool back_in_own_cgroup = false;
};

Outcome boot_failing_at(runtime::Paths paths, const std::string& name, const std::string& fail_at) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string before = fs::read_file("/proc/self/cgroup").value();
        paths.fault = [&](std::string_view step) -> Status {
            std::string line = std::string(step) + "\n";
            (void)!::write(fds[1], line.data(), line.size());
            if (step == fail_at)
                return Error(0, "injected failure at " + std::string(step));
            return {};
        };
        runtime::BootOptions o;
        o.supervise = false;  // the steps in this process, which must come home after them
        auto st = runtime::boot(paths, name, o);
        // A step of the network's own carries its context ("network: injected …").
        bool injected = !st && st.error().describe().ends_with("injected failure at " + fail_at);
        bool home = fs::read_file("/proc/self/cgroup").value() == before;
        std::string verdict = std::string("=") + (injected ? "1" : "0") + (home ? "1" : "0") + " " +
                              (st ? std::string("ok") : st.error().describe()) + "\n";
        (void)!::write(fds[1], verdict.data(), verdict.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
        text.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    Outcome out;
    for (auto line : fs::split(text, '\n')) {
        if (line.starts_with("=")) {
            INFO(std::string(line));
            out.failed_as_injected = line.size() > 1 && line[1] == '1';
            out.back_in_own_cgroup = line.size() > 2 && line[2] == '1';
        } else if (!line.empty()) {
            out.steps.emplace_back(line);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("a boot failing at any step of its plan leaves nothing and returns the process",
          "[privileged]") {
    test::require_container_host();
    test::Sandbox sb;
    test::TempDir src;
    std::string img = src / "image";
    REQUIRE(fs::mkdir_p(img + "/etc").ok());
    const std::string name = sb.unique_name("steps");
    auto created = sb.volt({"create", name, "--image", img, "--network", "private"});
    INFO(created.err);
    REQUIRE(created.code == 0);
    const runtime::Paths paths = sb.paths();

    // All the steps this host's boot has: fail at the last one (exec), before execve.
    Outcome all = boot_failing_at(paths, name, "boot:exec");
    REQUIRE(all.failed_as_injected);
    REQUIRE(all.steps.size() >= 15);
    CHECK(all.steps.front() == "boot:record");
    CHECK(all.steps.back() == "boot:exec");
    for (const char* step : {"boot:cgroup", "boot:device program", "boot:join cgroup",
                             "boot:limits", "boot:network lease", "boot:state", "boot:network",
                             "boot:network:bridge", "boot:network:sysctl", "boot:network:netns",
                             "boot:network:veth", "boot:network:addresses", "boot:network:nftables",
                             "boot:network:resolv.conf", "boot:join netns", "boot:landlock"})
        CHECK(std::find(all.steps.begin(), all.steps.end(), step) != all.steps.end());

    for (const auto& step : all.steps) {
        DYNAMIC_SECTION("failing at " << step) {
            Outcome o = boot_failing_at(paths, name, step);
            CHECK(o.failed_as_injected);
            CHECK(o.back_in_own_cgroup);
            // Exactly the steps up to the failing one were entered.
            auto at = std::find(all.steps.begin(), all.steps.end(), step);
            CHECK(o.steps == std::vector<std::string>(all.steps.begin(), at + 1));
            CHECK_FALSE(test::cgroups_left(name));
            CHECK_FALSE(fs::exists(paths.state_file(name)));
            CHECK_FALSE(fs::exists(paths.netns(name)));
            auto sock = netlink::RouteSocket::open();
            REQUIRE(sock);
            auto link = sock->link(netlink::host_ifname(name));
            REQUIRE(link);
            CHECK_FALSE(link->has_value());
            CHECK_FALSE(test::has_nft_rules_of(name));
        }
    }
    CHECK(sb.volt({"delete", name}).code == 0);
}
