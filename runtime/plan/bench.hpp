// volt-run bench: the pure parts. Samples (nanoseconds of CLOCK_MONOTONIC) become a summary per
// phase (min, p50, p90, max), and a report becomes a table, JSON ("volt-run-bench/2", every
// sample kept) or an SVG chart drawn by hand. No clock, no file, no process here: the runs are
// runtime/verbs/bench.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace volt::runtime {

// The phases of one lifecycle, in the order they run and are reported.
inline constexpr const char* kBenchPhases[] = {
    "create",           // volt-run create, spawn to reaped exit
    "boot set-up",      // volt-run boot --detach spawned, until it execs systemd-nspawn
    "nspawn to READY",  // that execve until boot saw READY=1
    "time to READY",    // the two before: boot --detach spawned until READY=1
    "first exec",       // the first volt-run exec NAME -- /bin/true
    "warm exec",        // the median of the next kWarmExecs execs, one sample a lifecycle
    "stop",             // volt-run stop
    "delete",           // volt-run delete
};
// Their indices in kBenchPhases (and BenchReport::phases).
enum BenchPhaseIndex : std::size_t {
    kCreatePhase,
    kBootSetupPhase,
    kNspawnReadyPhase,
    kTimeToReadyPhase,
    kFirstExecPhase,
    kWarmExecPhase,
    kStopPhase,
    kDeletePhase,
};
inline constexpr int kWarmExecs = 10;
inline constexpr int kMaxBenchIterations = 1000;

struct BenchSummary {
    std::uint64_t min = 0, p50 = 0, p90 = 0, max = 0;  // ns
};

// Nearest rank: the smallest sample that at least p percent of the samples are not above
// (p in 0..100). samples need not be sorted. Empty: 0.
std::uint64_t percentile(std::vector<std::uint64_t> samples, double p);
BenchSummary summarize(const std::vector<std::uint64_t>& samples);

// What the same step costs done the way users do it without volt-run (--compare).
struct BenchPeer {
    std::string name;       // "cp -a", "nsenter -t PID -a", …
    std::string command;    // the exact command line, for the report
    bool installed = true;  // false: its program is not on this machine; no samples
    std::string note;       // what differs from volt-run's step, when anything does
    // Non-empty: the peer failed (one line, what it said); its samples are dropped and it ran no
    // more, while the rest of the bench went on.
    std::string error;
    std::vector<std::uint64_t> samples;
};

struct BenchPhase {
    std::string name;
    std::vector<std::uint64_t> samples;  // one a lifecycle
    std::vector<BenchPeer> peers;        // --compare: each peer of this step
};

struct BenchReport {
    std::string image;
    std::string network;  // "none" or "private"
    std::string container;
    int iterations = 0;
    bool compare = false;
    std::vector<BenchPhase> phases;
};

// volt-run's p50 over the peer's; nullopt without samples on either side.
std::optional<double> ratio(const BenchPhase& phase, const BenchPeer& peer);

// The table: one row per phase, milliseconds with two decimals; with peers, each one's p50 and
// the ratio (or why there is none: not installed, failed), a second peer on a line of its own.
std::string render_table(const BenchReport& report);
// JSON, schema "volt-run-bench/2": every sample in ns, the summary in ms, each phase's "peers"
// with theirs and their "ratio" (null with the reason in "note" or "error" when none ran).
std::string render_json(const BenchReport& report);
// A standalone SVG: one row per phase on a logarithmic millisecond axis, a line from min to max
// and a box from p50 to p90 (each peer's below it in another colour).
std::string render_svg(const BenchReport& report);

}  // namespace volt::runtime
