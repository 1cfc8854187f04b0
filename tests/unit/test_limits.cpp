// cgroup limits: what is written where (pure), and the cgroup code against a fake cgroupfs
// directory, for the controllers our machines' hierarchy lacks. That they bite is shown by the
// cgroup-vm tier.
#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "cgroup/limits.hpp"
#include "runtime/plan/spec.hpp"
#include "support.hpp"

using namespace volt;
using cgroup::Setting;

TEST_CASE("limits become cgroup files and values, in a fixed order", "[unit]") {
    cgroup::Limits l;
    CHECK(cgroup::render(l).empty());
    l.pids_max = 100;
    l.io_weight = 200;
    l.cpuset = "0-3,6";
    l.cpu_weight = 50;
    l.cpus_milli = 1500;
    l.memory_swap_max = 0;
    l.memory_max = 512ULL << 20;
    l.memory_high = 256ULL << 20;
    CHECK(cgroup::render(l) == std::vector<Setting>{
                                   {"memory", "memory.high", "268435456"},
                                   {"memory", "memory.max", "536870912"},
                                   {"memory", "memory.swap.max", "0"},
                                   {"cpu", "cpu.max", "150000 100000"},
                                   {"cpu", "cpu.weight", "50"},
                                   {"cpuset", "cpuset.cpus", "0-3,6"},
                                   {"io", "io.weight", "default 200"},
                                   {"pids", "pids.max", "100"},
                               });
    CHECK(cgroup::controllers_of(cgroup::render(l)) ==
          std::vector<std::string>{"memory", "cpu", "cpuset", "io", "pids"});
    cgroup::Limits small;
    small.cpus_milli = 10;  // the least --cpus accepts: 1 ms per 100 ms
    CHECK(cgroup::render(small).front().value == "1000 100000");
}

TEST_CASE("limit options: parsing and merging for update", "[unit]") {
    runtime::ResourceRequest r;
    r.memory = "1G";
    r.cpus = "0.5";
    auto base = runtime::parse_resources(r);
    REQUIRE(base.ok());
    CHECK(base->memory_max == (1ULL << 30));
    CHECK(base->cpus_milli == 500u);
    runtime::ResourceRequest change;
    change.memory = "2G";
    // A string, not a literal: GCC 12 at -O3 takes the copy of "64" into the second string of a
    // fresh struct for a read of uninitialized bytes (-Wmaybe-uninitialized).
    change.pids_max = std::string("64");
    auto c = runtime::parse_resources(change);
    REQUIRE(c.ok());
    auto merged = runtime::merge(*base, *c);
    CHECK(merged.memory_max == (2ULL << 30));
    CHECK(merged.cpus_milli == 500u);
    CHECK(merged.pids_max == 64u);
    for (auto bad : std::vector<std::pair<std::string, std::string>>{{"cpus", "0"},
                                                                     {"memory", "-5M"},
                                                                     {"cpuset", "9-2"},
                                                                     {"cpu_weight", "0"},
                                                                     {"io_weight", "100000"}}) {
        runtime::ResourceRequest b;
        if (bad.first == "cpus")
            b.cpus = bad.second;
        else if (bad.first == "memory")
            b.memory = bad.second;
        else if (bad.first == "cpuset")
            b.cpuset = bad.second;
        else if (bad.first == "cpu_weight")
            b.cpu_weight = bad.second;
        else
            b.io_weight = bad.second;
        auto p = runtime::parse_resources(b);
        INFO(bad.first << " " << bad.second);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().describe().find("'" + bad.second + "'") != std::string::npos);
    }
}

TEST_CASE("controllers and limits against a fake cgroupfs", "[unit]") {
    test::TempDir fake;
    std::string mount = fake.path();
    REQUIRE(fs::write_file_atomic(mount + "/cgroup.controllers", "cpuset cpu memory pids\n").ok());
    REQUIRE(fs::write_file_atomic(mount + "/cgroup.subtree_control", "memory\n").ok());
    REQUIRE(fs::mkdir_p(mount + "/volt.slice/web").ok());
    REQUIRE(fs::write_file_atomic(mount + "/volt.slice/cgroup.subtree_control", "\n").ok());

    std::vector<std::string> missing;
    std::string why;
    // memory: enabled at the root already, so only volt.slice gets "+memory".
    REQUIRE(cgroup::enable_controllers(mount, mount + "/volt.slice/web", {"memory"}, missing, why)
                .ok());
    CHECK(missing.empty());
    CHECK(*fs::read_file(mount + "/cgroup.subtree_control") == "memory\n");
    CHECK(fs::read_file(mount + "/volt.slice/cgroup.subtree_control")->rfind("+memory", 0) == 0);
    // io is not on this hierarchy at all: reported, not an error.
    REQUIRE(
        cgroup::enable_controllers(mount, mount + "/volt.slice/web", {"io"}, missing, why).ok());
    CHECK(missing == std::vector<std::string>{"io"});
    CHECK(why.find("not available on the cgroup2 hierarchy at " + mount) != std::string::npos);

    // Settings go to the files of the cgroup itself.
    std::string web = mount + "/volt.slice/web";
    for (const char* f : {"memory.max", "pids.max"})
        REQUIRE(fs::write_file_atomic(web + "/" + f, "max\n").ok());
    cgroup::Limits l;
    l.memory_max = 64ULL << 20;
    l.pids_max = 32;
    REQUIRE(cgroup::write_settings(web, cgroup::render(l)).ok());
    CHECK(fs::read_file(web + "/memory.max")->rfind("67108864", 0) == 0);
    CHECK(fs::read_file(web + "/pids.max")->rfind("32", 0) == 0);
    // A file the kernel would have (a controller that is off) is missing: an error naming it.
    cgroup::Limits cpu;
    cpu.cpus_milli = 500;
    auto st = cgroup::write_settings(web, cgroup::render(cpu));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().describe().find("cpu.max") != std::string::npos);

    // Counters.
    REQUIRE(fs::write_file_atomic(web + "/memory.current", "1234\n").ok());
    REQUIRE(fs::write_file_atomic(web + "/memory.events",
                                  "low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\noom_group_kill 0\n")
                .ok());
    REQUIRE(fs::write_file_atomic(web + "/cpu.stat",
                                  "usage_usec 777\nuser_usec 700\nsystem_usec 77\n"
                                  "nr_periods 10\nnr_throttled 4\nthrottled_usec 900\n")
                .ok());
    auto s = cgroup::read_stats(web);
    CHECK(s.memory_current == 1234u);
    CHECK(s.oom_kills == 2u);
    CHECK(s.cpu_usage_usec == 777u);
    CHECK(s.nr_throttled == 4u);
    CHECK(s.throttled_usec == 900u);
    CHECK_FALSE(s.memory_peak.has_value());
    CHECK_FALSE(s.pids_current.has_value());
}
