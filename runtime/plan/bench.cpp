#include "runtime/plan/bench.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/text.hpp"

namespace volt::runtime {
namespace {

// The chart's log scale without libm: its log10 and pow were the only calls volt-run made into
// libm, and every shared library linked into volt-run is loaded by every exec
// (docs/BENCHMARKS.md). x = m 2^e is split from its bits (x is a positive normal number here);
// ln(m) = 2 atanh(z) with z = (m - 1) / (m + 1) in [-1/3, 0) for m in [0.5, 1): five terms of
// its series are within 1e-6 of log10, far below a pixel.
double log10_of(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1022;
    const double m = std::bit_cast<double>((bits & ((1ULL << 52) - 1)) | (1022ULL << 52));
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k <= 9; k += 2, term *= z2)
        sum += term / k;
    constexpr double kLn2 = 0.6931471805599453, kLn10 = 2.302585092994046;
    return (exponent * kLn2 + 2 * sum) / kLn10;
}

// floor and ceil, which unoptimized builds call in libm, for the small magnitudes here (ranks
// and decades).
double floor_of(double x) {
    const auto t = static_cast<double>(static_cast<long long>(x));
    return t > x ? t - 1 : t;
}

double ceil_of(double x) {
    const auto t = static_cast<double>(static_cast<long long>(x));
    return t < x ? t + 1 : t;
}

double power_of_ten(int e) {
    double v = 1;
    for (int i = 0; i < (e < 0 ? -e : e); ++i)
        v = e < 0 ? v / 10 : v * 10;
    return v;
}

double ms(std::uint64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

nlohmann::json summary_json(const std::vector<std::uint64_t>& samples) {
    BenchSummary s = summarize(samples);
    return {{"samples_ns", samples},
            {"min_ms", ms(s.min)},
            {"p50_ms", ms(s.p50)},
            {"p90_ms", ms(s.p90)},
            {"max_ms", ms(s.max)}};
}

std::string xml_escaped(std::string_view s) {
    std::string out;
    for (char c : text::printable(s)) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace

std::uint64_t percentile(std::vector<std::uint64_t> samples, double p) {
    if (samples.empty())
        return 0;
    std::sort(samples.begin(), samples.end());
    double rank = ceil_of(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(samples.size()));
    std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    return samples[std::min(index, samples.size() - 1)];
}

BenchSummary summarize(const std::vector<std::uint64_t>& samples) {
    if (samples.empty())
        return {};
    auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    return {.min = *lo, .p50 = percentile(samples, 50), .p90 = percentile(samples, 90), .max = *hi};
}

std::optional<double> ratio(const BenchPhase& phase, const BenchPeer& peer) {
    if (peer.samples.empty() || phase.samples.empty())
        return std::nullopt;
    std::uint64_t theirs = percentile(peer.samples, 50);
    if (theirs == 0)
        return std::nullopt;
    return static_cast<double>(percentile(phase.samples, 50)) / static_cast<double>(theirs);
}

std::string render_table(const BenchReport& r) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %10s %10s %10s %10s", "PHASE (ms)", "MIN", "P50", "P90",
                  "MAX");
    out += line;
    if (r.compare)
        out += "   PEER P50      RATIO  PEER";
    out += "\n";
    for (const BenchPhase& ph : r.phases) {
        BenchSummary s = summarize(ph.samples);
        std::snprintf(line, sizeof line, "%-16s %10s %10s %10s %10s", ph.name.c_str(),
                      fixed(ms(s.min), 2).c_str(), fixed(ms(s.p50), 2).c_str(),
                      fixed(ms(s.p90), 2).c_str(), fixed(ms(s.max), 2).c_str());
        out += line;
        if (r.compare) {
            if (ph.peers.empty())
                out += "          -          -  -";
            // Each peer after the first on a line of its own, under the first.
            for (std::size_t i = 0; i < ph.peers.size(); ++i) {
                const BenchPeer& peer = ph.peers[i];
                if (i > 0)
                    out += "\n" + std::string(60, ' ');
                auto q = ratio(ph, peer);
                if (!q) {
                    std::string why = !peer.error.empty() ? "failed: " + peer.error
                                      : !peer.installed   ? std::string("not installed")
                                                          : peer.note;
                    std::snprintf(line, sizeof line, " %10s %10s  ", "-", "-");
                    out += line + text::printable(peer.name) + " (" + text::printable(why) + ")";
                } else {
                    std::snprintf(line, sizeof line, " %10s %10s  ",
                                  fixed(ms(percentile(peer.samples, 50)), 2).c_str(),
                                  fixed(*q, 3).c_str());
                    out += line + text::printable(peer.name);
                }
            }
        }
        out += "\n";
    }
    std::snprintf(line, sizeof line, "%d lifecycle%s, network %s, image %s\n", r.iterations,
                  r.iterations == 1 ? "" : "s", r.network.c_str(),
                  text::printable(r.image).c_str());
    out += line;
    return out;
}

std::string render_json(const BenchReport& r) {
    nlohmann::json phases = nlohmann::json::array();
    for (const BenchPhase& ph : r.phases) {
        nlohmann::json p = summary_json(ph.samples);
        p["name"] = ph.name;
        if (r.compare) {
            nlohmann::json peers = nlohmann::json::array();
            for (const BenchPeer& peer : ph.peers) {
                nlohmann::json q =
                    peer.samples.empty() ? nlohmann::json::object() : summary_json(peer.samples);
                q["name"] = peer.name;
                q["command"] = text::printable(peer.command);
                q["installed"] = peer.installed;
                if (!peer.note.empty())
                    q["note"] = text::printable(peer.note);
                if (!peer.error.empty())
                    q["error"] = text::printable(peer.error);
                auto v = ratio(ph, peer);
                q["ratio"] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
                peers.push_back(std::move(q));
            }
            p["peers"] = std::move(peers);
        }
        phases.push_back(std::move(p));
    }
    nlohmann::json j = {{"schema", "volt-run-bench/2"}, {"image", text::printable(r.image)},
                        {"network", r.network},         {"container", r.container},
                        {"iterations", r.iterations},   {"warm_execs_per_lifecycle", kWarmExecs},
                        {"compare", r.compare},         {"phases", std::move(phases)}};
    return j.dump(2) + "\n";
}

std::string render_svg(const BenchReport& r) {
    // Layout: a label column, then the axis from 10^lo to 10^hi ms.
    constexpr int kLabel = 150, kPlot = 600, kRow = 34, kTop = 40;
    std::uint64_t smallest = UINT64_MAX, largest = 1;
    for (const BenchPhase& ph : r.phases) {
        auto widen = [&](const std::vector<std::uint64_t>& v) {
            for (std::uint64_t x : v) {
                smallest = std::min(smallest, std::max<std::uint64_t>(x, 1));
                largest = std::max(largest, x);
            }
        };
        widen(ph.samples);
        for (const BenchPeer& peer : ph.peers)
            widen(peer.samples);
    }
    if (smallest == UINT64_MAX)
        smallest = 1;
    int lo = static_cast<int>(floor_of(log10_of(ms(smallest))));
    int hi = static_cast<int>(ceil_of(log10_of(ms(largest))));
    if (hi <= lo)
        hi = lo + 1;
    auto x_of = [&](std::uint64_t ns) {
        double v = log10_of(std::max(ms(ns), 1e-9));
        double f = (v - lo) / static_cast<double>(hi - lo);
        return kLabel + std::clamp(f, 0.0, 1.0) * kPlot;
    };
    const int height = kTop + kRow * static_cast<int>(r.phases.size()) + 40;
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n",
                  kLabel + kPlot + 20, height);
    out += buf;
    out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    out +=
        "<text x=\"10\" y=\"20\" font-size=\"14\">volt-run bench: " + std::to_string(r.iterations) +
        " lifecycles, network " + xml_escaped(r.network) + ", image " + xml_escaped(r.image) +
        " (ms, log scale; line min-max, box p50-p90" + (r.compare ? "; grey: peer" : "") +
        ")</text>\n";
    for (int e = lo; e <= hi; ++e) {
        double x = kLabel + static_cast<double>(e - lo) / (hi - lo) * kPlot;
        std::snprintf(buf, sizeof buf,
                      "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n"
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                      x, kTop - 5, x, height - 30, x, height - 15,
                      fixed(power_of_ten(e), e < 0 ? -e : 0).c_str());
        out += buf;
    }
    auto draw = [&](const std::vector<std::uint64_t>& v, double y, const char* colour) {
        BenchSummary s = summarize(v);
        std::snprintf(buf, sizeof buf,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n"
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"8\" fill=\"%s\"/>\n",
                      x_of(s.min), y, x_of(s.max), y, colour, x_of(s.p50), y - 4,
                      std::max(1.0, x_of(s.p90) - x_of(s.p50)), colour);
        out += buf;
    };
    for (std::size_t i = 0; i < r.phases.size(); ++i) {
        const BenchPhase& ph = r.phases[i];
        double y = kTop + kRow * static_cast<double>(i) + 10;
        std::snprintf(buf, sizeof buf, "<text x=\"10\" y=\"%.1f\">%s</text>\n", y + 4,
                      xml_escaped(ph.name).c_str());
        out += buf;
        draw(ph.samples, y, "#1f6fb2");
        double peer_y = y;
        for (const BenchPeer& peer : ph.peers)
            if (!peer.samples.empty())
                draw(peer.samples, peer_y += 10, "#999");
    }
    out += "</svg>\n";
    return out;
}

}  // namespace volt::runtime
