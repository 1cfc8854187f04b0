// What every fuzzer shares: the invariants are checked with check(), which prints what broke and
// traps, so that libFuzzer records the input as a crash; guard() turns an exception that escapes
// the code under test into such a crash too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace volt::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n%.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    __builtin_trap();
}

inline void check(bool holds, const char* what, std::string_view detail = {}) {
    if (!holds)
        fail(what, detail);
}

// An error message as the APIs promise it: one line, not empty.
inline void check_one_line(const Error& error) {
    const std::string text = error.describe();
    check(!text.empty() && text.find('\n') == std::string::npos, "error is not one line", text);
}

// Runs f; no exception may leave it.
template <class F>
void guard(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        fail("exception escaped", e.what());
    } catch (...) {
        fail("exception escaped", "(not a std::exception)");
    }
}

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// The input split at NUL bytes (an argv, or the fields of a request).
inline std::vector<std::string> split_at_nul(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto nul = s.find('\0');
        out.emplace_back(s.substr(0, nul));
        s = nul == std::string_view::npos ? std::string_view() : s.substr(nul + 1);
    }
    return out;
}

}  // namespace volt::fuzz
