// Network set-up time of one container, in-process (what boot does), repeated. Run it in a
// throwaway network namespace: tools/bench/net-setup.sh does, and times the same steps done with
// `ip` commands side by side.
//   volt-net-bench ROOT ITERATIONS [fresh]
// fresh: delete voltbr0 before every iteration, so each one creates the bridge too.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/fs.hpp"
#include "netlink/link.hpp"
#include "runtime/verbs/network.hpp"

using namespace volt;

namespace {
long long now_us() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void report(const char* what, std::vector<long long> v) {
    std::sort(v.begin(), v.end());
    std::printf("%-34s median %6lld us  p90 %6lld us  min %6lld us  (n=%zu)\n", what,
                v[v.size() / 2], v[v.size() * 9 / 10], v.front(), v.size());
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: volt-net-bench ROOT ITERATIONS [fresh]\n");
        return 2;
    }
    runtime::Paths paths;
    paths.root = std::string(argv[1]) + "/root";
    paths.run_dir = std::string(argv[1]) + "/run";
    const int n = std::atoi(argv[2]);
    const bool fresh = argc > 3 && std::string(argv[3]) == "fresh";
    runtime::Spec spec;
    spec.name = "bench";
    spec.network = runtime::NetworkMode::private_net;
    spec.ports = {{"tcp", 8080, 80}};
    if (!fs::mkdir_p(paths.rootfs(spec.name) + "/etc") || !fs::mkdir_p(paths.config_dir("bench")))
        return 1;
    std::vector<long long> prepare, build, total, teardown;
    for (int i = 0; i < n; ++i) {
        if (fresh)
            if (auto s = netlink::RouteSocket::open())
                (void)s->delete_link("voltbr0");
        long long t0 = now_us();
        auto setup = runtime::NetworkSetup::prepare(paths, spec);
        if (!setup) {
            std::fprintf(stderr, "%s\n", setup.error().describe().c_str());
            return 1;
        }
        long long t1 = now_us();
        auto netns = setup->build();
        if (!netns) {
            std::fprintf(stderr, "%s\n", netns.error().describe().c_str());
            return 1;
        }
        long long t2 = now_us();
        setup = Error(0, "done");  // releases the network lock
        netns = Error(0, "done");
        long long t3 = now_us();
        if (auto st = runtime::teardown_network(paths, spec.name); !st) {
            std::fprintf(stderr, "%s\n", st.error().describe().c_str());
            return 1;
        }
        long long t4 = now_us();
        prepare.push_back(t1 - t0);
        build.push_back(t2 - t1);
        total.push_back(t2 - t0);
        teardown.push_back(t4 - t3);
    }
    std::printf("volt-run in-process (%s bridge), with nftables and resolv.conf:\n",
                fresh ? "new" : "existing");
    report("  prepare (lock, collect, lease)", prepare);
    report("  build (links, netns, addrs, nft)", build);
    report("  set-up total", total);
    report("  teardown", teardown);
    return 0;
}
