// printf-style logging to stderr with a "volt-run: " prefix (GCC 12 has no <format>). The CLI
// sets the level once; library code logs progress at debug and warnings the user must see.
#pragma once

namespace volt::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
Level level();

void error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace volt::log
