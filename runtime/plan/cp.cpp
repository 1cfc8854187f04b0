#include "runtime/plan/cp.hpp"

#include <charconv>
#include <limits>

#include "base/fs.hpp"
#include "base/text.hpp"
#include "runtime/plan/options.hpp"

namespace volt::runtime {

Result<CpOperand> parse_cp_operand(std::string_view arg) {
    // Built with append: GCC 12 -O3 warns wrongly on "literal" + std::string&& (-Wrestrict).
    const std::string printable = text::printable(arg);
    const std::string shown = std::string("'").append(printable).append("'");
    const std::string hint =
        std::string(" (a host path with ':' in it is written ./").append(printable).append(")");
    if (arg.empty())
        return Error::usage("cp: an empty path");
    const auto colon = arg.find(':');
    const auto slash = arg.find('/');
    // No ':' before the first '/', or a first component starting with '.' (no container name
    // does): a host path, whatever ':' it holds further on.
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon) ||
        arg.front() == '.')
        return CpOperand{.container = {}, .path = std::string(arg)};
    if (colon == 0)
        return Error::usage("cp: " + shown + ": no container name before ':'" + hint);
    std::string_view name = arg.substr(0, colon), path = arg.substr(colon + 1);
    if (auto st = validate_name(name); !st)
        return Error::usage("cp: " + shown + ": " + st.error().describe() + hint);
    if (path.empty())
        return Error::usage("cp: " + shown + ": no path after ':' (NAME:/PATH)");
    std::string absolute = path.front() == '/' ? std::string(path) : std::string("/").append(path);
    return CpOperand{.container = std::string(name), .path = std::move(absolute)};
}

Status check_cp_operands(const CpOperand& src, const CpOperand& dst) {
    if (src.in_container() && dst.in_container())
        return Error::usage("cp: both paths are in containers (" + src.container + ", " +
                            dst.container + "); copy to the host and back");
    if (!src.in_container() && !dst.in_container())
        return Error::usage("cp: neither path is in a container; name one as NAME:PATH");
    return {};
}

std::string last_component(std::string_view path) {
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/")
        return "";
    auto at = path.rfind('/');
    return std::string(at == std::string_view::npos ? path : path.substr(at + 1));
}

std::string parent_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    auto at = path.rfind('/');
    if (at == std::string_view::npos)
        return ".";
    while (at > 0 && path[at - 1] == '/')
        --at;
    return at == 0 ? "/" : std::string(path.substr(0, at));
}

IdMap IdMap::identity() {
    return IdMap{{{.inside = 0, .outside = 0, .count = std::numeric_limits<std::uint32_t>::max()}}};
}

IdMap IdMap::shifted(std::uint32_t base, std::uint32_t count) {
    return IdMap{{{.inside = 0, .outside = base, .count = count}}};
}

std::optional<std::uint32_t> IdMap::to_host(std::uint32_t inside) const {
    for (const auto& r : ranges)
        if (inside >= r.inside && inside - r.inside < r.count)
            return r.outside + (inside - r.inside);
    return std::nullopt;
}

std::optional<std::uint32_t> IdMap::to_container(std::uint32_t outside) const {
    for (const auto& r : ranges)
        if (outside >= r.outside && outside - r.outside < r.count)
            return r.inside + (outside - r.outside);
    return std::nullopt;
}

Result<IdMap> parse_id_map(std::string_view text) {
    IdMap map;
    for (std::string_view line : fs::split(text, '\n')) {
        auto fields = fs::words(line);
        if (fields.empty())
            continue;
        std::uint32_t v[3];
        if (fields.size() != 3)
            return Error(EINVAL,
                         "an id map line is not three numbers: '" + text::printable(line) + "'");
        for (int i = 0; i < 3; ++i) {
            auto f = fields[static_cast<std::size_t>(i)];
            auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v[i]);
            if (ec != std::errc() || end != f.data() + f.size())
                return Error(
                    EINVAL, "an id map line is not three numbers: '" + text::printable(line) + "'");
        }
        // Ranges the kernel would refuse: none wraps around 2^32.
        if (v[2] == 0 || v[0] > std::numeric_limits<std::uint32_t>::max() - (v[2] - 1) ||
            v[1] > std::numeric_limits<std::uint32_t>::max() - (v[2] - 1))
            return Error(EINVAL, "an id map range out of bounds: '" + text::printable(line) + "'");
        map.ranges.push_back({.inside = v[0], .outside = v[1], .count = v[2]});
    }
    if (map.ranges.empty())
        return Error(EINVAL, "an empty id map");
    return map;
}

}  // namespace volt::runtime
