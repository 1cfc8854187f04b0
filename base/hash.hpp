// A small, stable, non-cryptographic hash (64-bit FNV-1a) for cache keys, checksums and names
// derived from user input. Stable across builds and machines: results are stored on disk and
// must never change for the same input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace volt::hash {

inline std::uint64_t fnv1a(std::string_view data, std::uint64_t h = 0xcbf29ce484222325ULL) {
    for (unsigned char c : data) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

// 16 lower-case hex digits.
inline std::string hex(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace volt::hash
