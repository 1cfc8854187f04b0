// Pure parts of `cp`: what an operand names (a host path or NAME:PATH) and how the owners of
// copied files map through a container's user namespace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace volt::runtime {

// One operand of `cp`. NAME:PATH names PATH inside container NAME; anything else is a path on
// the host. Like docker cp, an operand is a container's when a ':' comes before the first '/'
// and the part before it is not empty: "./a:b" and "/x:y" are host paths, and a host path with
// a ':' in its first component is written with ./ in front.
struct CpOperand {
    std::string container;  // empty: a host path
    std::string path;       // a container's: absolute (a relative one is taken from its /)
    bool in_container() const { return !container.empty(); }
};

// Usage errors name the operand: an empty operand or path ("web:"), a bad container name.
Result<CpOperand> parse_cp_operand(std::string_view arg);

// The two operands of `cp SRC DST`: exactly one of them must be a container's.
Status check_cp_operands(const CpOperand& src, const CpOperand& dst);

// The last component of a path, trailing slashes ignored ("/a/b/" → "b"); "" for "/".
std::string last_component(std::string_view path);
// What is left of path without its last component, as a path to open ("a" → ".", "/a" → "/").
std::string parent_of(std::string_view path);

// One user namespace's ids as /proc/PID/uid_map (or gid_map) lists them: ranges of ids inside
// and the ids outside (the host's) they are.
struct IdRange {
    std::uint32_t inside = 0;
    std::uint32_t outside = 0;
    std::uint32_t count = 0;
};
struct IdMap {
    std::vector<IdRange> ranges;

    // Every id is itself: a container without a user namespace of its own.
    static IdMap identity();
    // container ids 0..count-1 are host ids base..base+count-1.
    static IdMap shifted(std::uint32_t base, std::uint32_t count);

    // The host's id of a container id; nullopt when the namespace has none for it.
    std::optional<std::uint32_t> to_host(std::uint32_t inside) const;
    // The container's id of a host id; nullopt when the namespace has none for it (the
    // container sees such a file as the overflow id, 65534).
    std::optional<std::uint32_t> to_container(std::uint32_t outside) const;
};

// The contents of a uid_map or gid_map file; EINVAL for anything else (so a file that is not
// what we think never maps ids wrongly).
Result<IdMap> parse_id_map(std::string_view text);

// The id the kernel shows for an id a user namespace has no mapping for (overflowuid).
inline constexpr std::uint32_t kOverflowId = 65534;

}  // namespace volt::runtime
