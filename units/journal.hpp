// Reading a container's messages from the host's journal with sd-journal (what
// `journalctl -u UNIT` shows, without running it): the unit's own output (nspawn's, which carries
// the guest's console), systemd's messages about the unit, and the guest's own journal when
// nspawn linked it to the host (--link-journal).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace volt::units {

struct JournalQuery {
    std::string unit;        // e.g. volt-hybrid@web.service
    std::string machine_id;  // the guest's /etc/machine-id (32 hex digits), or empty
    std::optional<std::uint64_t> since_usec;  // CLOCK_REALTIME µs; entries from then on
    std::optional<std::size_t> lines;         // only the last N (of those since since_usec)
    bool follow = false;                      // then wait for new entries
};

struct JournalEntry {
    std::uint64_t realtime_usec = 0;
    std::vector<std::pair<std::string, std::string>> fields;  // in the journal's order

    // The value of a field; empty when the entry has none.
    std::string get(std::string_view field) const;
};

// Hands every matching entry, oldest first, to `out`. With follow, then waits for new ones until
// stop_fd becomes readable (a signalfd for SIGINT/SIGTERM, say), and returns normally.
Status read_journal(const JournalQuery& query, int stop_fd,
                    const std::function<void(const JournalEntry&)>& out);

}  // namespace volt::units
