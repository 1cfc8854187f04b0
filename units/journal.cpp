#include "units/journal.hpp"

#include <poll.h>

#include <cstring>
#include <deque>

#include "units/libsystemd.hpp"

namespace volt::units {
namespace {

Error journal_error(int r, const std::string& what) {
    return Error(-r, "journal: " + what + ": " + std::strerror(-r));
}

class Journal {
  public:
    Journal(const LibSystemd* lib, sd_journal* j) : lib_(lib), j_(j) {}
    ~Journal() { lib_->sd_journal_close(j_); }
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    Status match(const std::string& field_value) {
        int r = lib_->sd_journal_add_match(j_, field_value.data(), field_value.size());
        return r < 0 ? Status(journal_error(r, "match " + field_value)) : Status();
    }
    Status disjunction() {
        int r = lib_->sd_journal_add_disjunction(j_);
        return r < 0 ? Status(journal_error(r, "match")) : Status();
    }

    Result<JournalEntry> entry() {
        JournalEntry e;
        int r = lib_->sd_journal_get_realtime_usec(j_, &e.realtime_usec);
        if (r < 0)
            return journal_error(r, "reading an entry");
        lib_->sd_journal_restart_data(j_);
        const void* data = nullptr;
        size_t size = 0;
        while ((r = lib_->sd_journal_enumerate_data(j_, &data, &size)) > 0) {
            std::string_view field(static_cast<const char*>(data), size);
            auto eq = field.find('=');
            if (eq == std::string_view::npos)
                continue;
            e.fields.emplace_back(field.substr(0, eq), field.substr(eq + 1));
        }
        // A corrupt field is skipped, as journalctl does; the entry still counts.
        return e;
    }

  private:
    const LibSystemd* lib_;
    sd_journal* j_;
};

}  // namespace

std::string JournalEntry::get(std::string_view field) const {
    for (const auto& [k, v] : fields)
        if (k == field)
            return v;
    return {};
}

Status read_journal(const JournalQuery& q, int stop_fd,
                    const std::function<void(const JournalEntry&)>& out) {
    VOLT_TRY_ASSIGN(const LibSystemd* lib, libsystemd());
    sd_journal* raw = nullptr;
    // Not SD_JOURNAL_LOCAL_ONLY: a guest's journal linked to the host is in a directory of its
    // own machine id.
    int r = lib->sd_journal_open(&raw, 0);
    if (r < 0)
        return journal_error(r, "opening the system journal");
    Journal j(lib, raw);
    (void)lib->sd_journal_set_data_threshold(raw, 0);  // whole values, also in --json
    // Watching starts before reading, so that no file journald adds meanwhile is missed.
    int jfd = q.follow ? lib->sd_journal_get_fd(raw) : -1;
    if (jfd < 0 && q.follow)
        return journal_error(jfd, "watching");

    // (_SYSTEMD_UNIT=U) ∨ (UNIT=U ∧ _PID=1) ∨ (_MACHINE_ID=guest)
    VOLT_TRY(j.match("_SYSTEMD_UNIT=" + q.unit));
    VOLT_TRY(j.disjunction());
    VOLT_TRY(j.match("UNIT=" + q.unit));
    VOLT_TRY(j.match("_PID=1"));
    if (!q.machine_id.empty()) {
        VOLT_TRY(j.disjunction());
        VOLT_TRY(j.match("_MACHINE_ID=" + q.machine_id));
    }

    // The next entry, or nullopt at the end.
    auto next = [&]() -> Result<std::optional<JournalEntry>> {
        int rr = lib->sd_journal_next(raw);
        if (rr < 0)
            return journal_error(rr, "reading");
        if (rr == 0)
            return std::optional<JournalEntry>();
        VOLT_TRY_ASSIGN(JournalEntry e, j.entry());
        return std::optional<JournalEntry>(std::move(e));
    };
    auto drain = [&]() -> Status {
        for (;;) {
            VOLT_TRY_ASSIGN(auto e, next());
            if (!e)
                return {};
            out(*e);
        }
    };

    if (q.since_usec) {
        if ((r = lib->sd_journal_seek_realtime_usec(raw, *q.since_usec)) < 0)
            return journal_error(r, "seeking");
        // Only the last N of those since then.
        std::deque<JournalEntry> kept;
        for (;;) {
            VOLT_TRY_ASSIGN(auto e, next());
            if (!e)
                break;
            if (e->realtime_usec < *q.since_usec)
                continue;
            kept.push_back(std::move(*e));
            if (q.lines && kept.size() > *q.lines)
                kept.pop_front();
        }
        for (const auto& e : kept)
            out(e);
    } else if (q.lines) {
        if ((r = lib->sd_journal_seek_tail(raw)) < 0)
            return journal_error(r, "seeking");
        // previous_skip leaves the cursor on the oldest of the last N entries (or on the first,
        // when there are fewer), which is read before moving on.
        r = *q.lines == 0 ? 0 : lib->sd_journal_previous_skip(raw, *q.lines);
        if (r < 0)
            return journal_error(r, "seeking");
        if (r > 0) {
            VOLT_TRY_ASSIGN(JournalEntry e, j.entry());
            out(e);
        }
        VOLT_TRY(drain());
    } else {
        if ((r = lib->sd_journal_seek_head(raw)) < 0)
            return journal_error(r, "seeking");
        VOLT_TRY(drain());
    }
    if (!q.follow)
        return {};

    for (;;) {
        VOLT_TRY(drain());
        pollfd fds[2] = {{jfd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        // journald may rotate files without an inotify event we see: wake up now and then.
        int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, 5000);
        if (n < 0 && errno != EINTR)
            return Error::from_errno("journal: poll");
        if (stop_fd >= 0 && (fds[1].revents & POLLIN))
            return {};
        if ((r = lib->sd_journal_process(raw)) < 0)
            return journal_error(r, "watching");
    }
}

}  // namespace volt::units
