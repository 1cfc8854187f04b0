#include "base/log.hpp"

#include <cstdarg>
#include <cstdio>

namespace volt::log {
namespace {

Level g_level = Level::warn;

__attribute__((format(printf, 2, 0))) void vwrite(Level at, const char* fmt, va_list ap) {
    if (at > g_level)
        return;
    // One fprintf per line so concurrent writers do not interleave inside a line.
    char line[2048];
    std::vsnprintf(line, sizeof line, fmt, ap);
    std::fprintf(stderr, "volt-run: %s\n", line);
}

}  // namespace

void set_level(Level level) {
    g_level = level;
}
Level level() {
    return g_level;
}

#define VOLT_LOG_FN(name, lvl)        \
    void name(const char* fmt, ...) { \
        va_list ap;                   \
        va_start(ap, fmt);            \
        vwrite(lvl, fmt, ap);         \
        va_end(ap);                   \
    }
VOLT_LOG_FN(error, Level::error)
VOLT_LOG_FN(warn, Level::warn)
VOLT_LOG_FN(info, Level::info)
VOLT_LOG_FN(debug, Level::debug)
#undef VOLT_LOG_FN

}  // namespace volt::log
