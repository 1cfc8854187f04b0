// libsystemd, loaded with dlopen on first use. Every library linked into volt-run is mapped and
// relocated at every start, and `exec` is a hot path; only start/stop/restart/status/logs and
// create/delete (reloading systemd) talk to systemd, so only they pay for loading it.
//
// The function pointers have the types of the declarations in <systemd/sd-bus.h> and
// <systemd/sd-journal.h>, so every call is checked by the compiler as if it were linked.
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>

#include "base/error.hpp"

namespace volt::units {

// X(name) for every libsystemd function volt-run calls.
#define VOLT_LIBSYSTEMD_FUNCTIONS(X)  \
    X(sd_bus_open_system)             \
    X(sd_bus_flush_close_unref)       \
    X(sd_bus_call_method)             \
    X(sd_bus_match_signal)            \
    X(sd_bus_process)                 \
    X(sd_bus_wait)                    \
    X(sd_bus_slot_unref)              \
    X(sd_bus_message_unref)           \
    X(sd_bus_message_read)            \
    X(sd_bus_message_read_array)      \
    X(sd_bus_message_skip)            \
    X(sd_bus_message_enter_container) \
    X(sd_bus_message_exit_container)  \
    X(sd_bus_message_new_method_call) \
    X(sd_bus_message_append)          \
    X(sd_bus_message_append_strv)     \
    X(sd_bus_call)                    \
    X(sd_bus_error_free)              \
    X(sd_bus_error_has_name)          \
    X(sd_journal_open)                \
    X(sd_journal_close)               \
    X(sd_journal_add_match)           \
    X(sd_journal_add_disjunction)     \
    X(sd_journal_seek_tail)           \
    X(sd_journal_seek_head)           \
    X(sd_journal_seek_realtime_usec)  \
    X(sd_journal_previous_skip)       \
    X(sd_journal_next)                \
    X(sd_journal_get_data)            \
    X(sd_journal_restart_data)        \
    X(sd_journal_enumerate_data)      \
    X(sd_journal_get_realtime_usec)   \
    X(sd_journal_get_fd)              \
    X(sd_journal_process)             \
    X(sd_journal_set_data_threshold)

struct LibSystemd {
#define VOLT_DECLARE(name) decltype(&::name) name = nullptr;
    VOLT_LIBSYSTEMD_FUNCTIONS(VOLT_DECLARE)
#undef VOLT_DECLARE
};

// Loads libsystemd.so.0 once per process; the same table afterwards. An error names the library
// or the missing symbol.
Result<const LibSystemd*> libsystemd();

}  // namespace volt::units
