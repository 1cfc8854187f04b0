// volt-run bench's pure parts: percentiles, the summary, and the table, JSON and SVG renderings.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/plan/bench.hpp"

using namespace volt::runtime;

namespace {

BenchReport report_of(bool with_peer) {
    BenchReport r;
    r.image = "/img/<busy>&box";
    r.network = "none";
    r.container = "vb-1";
    r.iterations = 3;
    r.compare = with_peer;
    for (const char* name : kBenchPhases)
        r.phases.push_back({.name = name, .samples = {3000000, 1000000, 2000000}, .peers = {}});
    if (with_peer) {
        r.phases[kCreatePhase].peers = {BenchPeer{.name = "cp -a",
                                                  .command = "cp -a IMG DIR",
                                                  .installed = true,
                                                  .note = "",
                                                  .error = "",
                                                  .samples = {4000000, 4000000, 4000000}}};
        r.phases[kWarmExecPhase].peers = {BenchPeer{.name = "nsenter -a",
                                                    .command = "nsenter -t LEADER -a /bin/true",
                                                    .installed = true,
                                                    .note = "",
                                                    .error = "",
                                                    .samples = {1000000}},
                                          BenchPeer{.name = "crun exec",
                                                    .command = "crun exec C /bin/true",
                                                    .installed = false,
                                                    .note = "",
                                                    .error = "",
                                                    .samples = {}}};
        r.phases[kStopPhase].peers = {BenchPeer{.name = "kill -TERM NSPAWN",
                                                .command = "kill -TERM NSPAWN; wait",
                                                .installed = true,
                                                .note = "",
                                                .error = "timed out\nsecond line",
                                                .samples = {}}};
    }
    return r;
}

}  // namespace

TEST_CASE("bench percentiles are nearest-rank and ordered", "[unit]") {
    CHECK(percentile({}, 50) == 0);
    CHECK(percentile({7}, 0) == 7);
    CHECK(percentile({7}, 90) == 7);
    // Unsorted input; two samples: p50 is the smaller, p90 the larger.
    CHECK(percentile({9, 2}, 50) == 2);
    CHECK(percentile({9, 2}, 90) == 9);
    std::vector<std::uint64_t> ten = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5};
    CHECK(percentile(ten, 50) == 5);
    CHECK(percentile(ten, 90) == 9);
    CHECK(percentile(ten, 100) == 10);
    CHECK(percentile(ten, 0) == 1);
    CHECK(percentile(ten, 150) == 10);  // clamped
    BenchSummary s = summarize(ten);
    CHECK(s.min == 1);
    CHECK(s.p50 == 5);
    CHECK(s.p90 == 9);
    CHECK(s.max == 10);
    CHECK(summarize({}).max == 0);
}

TEST_CASE("bench ratio is volt-run's p50 over the peer's, none without peer samples", "[unit]") {
    BenchReport r = report_of(true);
    REQUIRE(ratio(r.phases[kCreatePhase], r.phases[kCreatePhase].peers[0]).has_value());
    CHECK(*ratio(r.phases[kCreatePhase], r.phases[kCreatePhase].peers[0]) == Approx(0.5));
    const auto& warm = r.phases[kWarmExecPhase];
    CHECK(*ratio(warm, warm.peers[0]) == Approx(2.0));
    CHECK_FALSE(ratio(warm, warm.peers[1]).has_value());  // not installed
    CHECK_FALSE(ratio(r.phases[kStopPhase], r.phases[kStopPhase].peers[0]).has_value());  // failed
    BenchPhase empty{.name = "x", .samples = {}, .peers = {}};
    CHECK_FALSE(ratio(empty, warm.peers[0]).has_value());  // volt-run has no samples
}

TEST_CASE("bench JSON keeps every sample and the summaries in ms", "[unit]") {
    auto j = nlohmann::json::parse(render_json(report_of(true)));
    CHECK(j["schema"] == "volt-run-bench/2");
    CHECK(j["iterations"] == 3);
    CHECK(j["network"] == "none");
    CHECK(j["container"] == "vb-1");
    REQUIRE(j["phases"].size() == std::size(kBenchPhases));
    for (std::size_t i = 0; i < std::size(kBenchPhases); ++i) {
        const auto& p = j["phases"][i];
        CHECK(p["name"] == kBenchPhases[i]);
        CHECK(p["samples_ns"] == nlohmann::json::array({3000000, 1000000, 2000000}));
        CHECK(p["min_ms"] == Approx(1.0));
        CHECK(p["p50_ms"] == Approx(2.0));
        CHECK(p["p90_ms"] == Approx(3.0));
        CHECK(p["max_ms"] == Approx(3.0));
    }
    const auto& cp = j["phases"][kCreatePhase]["peers"];
    REQUIRE(cp.size() == 1);
    CHECK(cp[0]["name"] == "cp -a");
    CHECK(cp[0]["p50_ms"] == Approx(4.0));
    CHECK(cp[0]["ratio"] == Approx(0.5));
    CHECK_FALSE(cp[0].contains("error"));
    const auto& warm = j["phases"][kWarmExecPhase]["peers"];
    REQUIRE(warm.size() == 2);
    CHECK(warm[0]["ratio"] == Approx(2.0));
    CHECK(warm[1]["name"] == "crun exec");
    CHECK(warm[1]["installed"] == false);
    CHECK(warm[1]["ratio"].is_null());
    CHECK_FALSE(warm[1].contains("samples_ns"));
    // A failed peer: a null figure and its reason, printable.
    const auto& stop = j["phases"][kStopPhase]["peers"][0];
    CHECK(stop["ratio"].is_null());
    CHECK(stop["error"] == "timed out\\nsecond line");
    CHECK(j["phases"][kBootSetupPhase]["peers"].empty());
    // Without --compare no phase has a peer.
    auto plain = nlohmann::json::parse(render_json(report_of(false)));
    for (const auto& p : plain["phases"])
        CHECK_FALSE(p.contains("peers"));
}

TEST_CASE("bench table has a row per phase in ms, and the peer's ratio", "[unit]") {
    std::string t = render_table(report_of(false));
    for (const char* name : kBenchPhases)
        CHECK(t.find(name) != std::string::npos);
    CHECK(t.find("create                 1.00       2.00       3.00       3.00") !=
          std::string::npos);
    CHECK(t.find("RATIO") == std::string::npos);
    std::string c = render_table(report_of(true));
    CHECK(c.find("RATIO") != std::string::npos);
    CHECK(c.find("4.00      0.500  cp -a") != std::string::npos);
    // A second peer of a phase on a line of its own, under the first's columns.
    CHECK(c.find("      1.00      2.000  nsenter -a\n" + std::string(60, ' ') +
                 "          -          -  crun exec (not installed)\n") != std::string::npos);
    CHECK(c.find("kill -TERM NSPAWN (failed: timed out\\nsecond line)") != std::string::npos);
}

TEST_CASE("bench SVG is one well-formed document with a row per phase, text escaped", "[unit]") {
    std::string svg = render_svg(report_of(true));
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.ends_with("</svg>\n"));
    for (const char* name : kBenchPhases)
        CHECK(svg.find(std::string(">") + name + "</text>") != std::string::npos);
    // The image path's markup characters are escaped, never markup.
    CHECK(svg.find("/img/&lt;busy&gt;&amp;box") != std::string::npos);
    CHECK(svg.find("<busy>") == std::string::npos);
    // One box per phase, one more for each peer with samples (not for the one not installed).
    std::size_t boxes = 0;
    for (std::size_t at = 0; (at = svg.find("<rect x=", at)) != std::string::npos; ++at)
        ++boxes;
    CHECK(boxes == std::size(kBenchPhases) + 2);
    // Every element it opens, it closes.
    std::size_t opened = 0, closed = 0;
    for (std::size_t at = 0; (at = svg.find("<text", at)) != std::string::npos; ++at)
        ++opened;
    for (std::size_t at = 0; (at = svg.find("</text>", at)) != std::string::npos; ++at)
        ++closed;
    CHECK(opened == closed);
}
