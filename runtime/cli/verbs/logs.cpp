// volt-run logs NAME: the container's messages from the journal, its unit's and its guest's; on a
// host without journald, the console log of `boot --detach`.
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/verbs/console_log.hpp"

namespace volt::cli::verbs {
namespace {

// One journal entry as `journalctl -o short-iso` would show it; a console line as itself. The
// message is the guest's text: its terminal sequences and control characters never reach ours.
void print_entry(const units::JournalEntry& e) {
    if (e.realtime_usec == 0 && e.get("_TRANSPORT") == "console") {
        std::printf("%s\n", runtime::console_text(e.get("MESSAGE")).c_str());
        return;
    }
    std::string ident = e.get("SYSLOG_IDENTIFIER");
    if (ident.empty())
        ident = e.get("_COMM");
    std::string pid = e.get("SYSLOG_PID");
    if (pid.empty())
        pid = e.get("_PID");
    std::string host = e.get("_HOSTNAME");
    host = host.empty() ? "-" : runtime::console_text(host);
    std::printf(
        "%s %s %s%s: %s\n", local_time(e.realtime_usec).c_str(), host.c_str(),
        runtime::console_text(ident).c_str(),
        pid.empty() ? "" : std::string("[").append(runtime::console_text(pid)).append("]").c_str(),
        runtime::console_text(e.get("MESSAGE")).c_str());
}

void print_entry_json(const units::JournalEntry& e) {
    nlohmann::json j = nlohmann::json::object();
    if (e.realtime_usec != 0)  // console lines have no time
        j["__REALTIME_TIMESTAMP"] = std::to_string(e.realtime_usec);
    for (const auto& [k, v] : e.fields)
        j[k] = v;
    // Journal values may be binary: invalid UTF-8 is replaced rather than thrown on.
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

}  // namespace

void add_logs(CLI::App& sub, LogsCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_flag("-f,--follow", c.follow, "Wait for new messages until Ctrl-C");
    sub.add_option("-n,--lines", c.lines, "Only the last N messages (default: all; 10 with -f)")
        ->check(CLI::Range(0, 1000000));
    sub.add_option("--since", c.since,
                   "From this time: YYYY-MM-DD [HH:MM[:SS]], @UNIX-SECONDS, today, yesterday, "
                   "-5min");
    sub.add_flag("--json", c.json, "One JSON object per message, with every journal field");
}

int run_logs(const Invocation& inv, const LogsCmd& c) {
    runtime::LogsOptions o;
    o.follow = c.follow;
    if (c.lines >= 0)
        o.lines = static_cast<std::size_t>(c.lines);
    else if (c.follow)
        o.lines = 10;
    if (!c.since.empty()) {
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        auto since =
            runtime::parse_since(c.since, static_cast<std::uint64_t>(now.tv_sec) * 1000000 +
                                              static_cast<std::uint64_t>(now.tv_nsec) / 1000);
        if (!since)
            return fail(since.error());
        o.since_usec = *since;
    }
    // Following ends on Ctrl-C or SIGTERM, read from a signalfd: a clean return, exit code 0.
    UniqueFd stop_fd;
    if (c.follow) {
        sigset_t stop_signals;
        ::sigemptyset(&stop_signals);
        ::sigaddset(&stop_signals, SIGINT);
        ::sigaddset(&stop_signals, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
        int fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
        if (fd < 0)
            return fail(Error::from_errno("signalfd"));
        stop_fd = UniqueFd(fd);
    }
    auto st = runtime::logs(inv.paths, c.name, o, stop_fd ? stop_fd.get() : -1,
                            [&](const units::JournalEntry& e) {
                                c.json ? print_entry_json(e) : print_entry(e);
                                if (c.follow)
                                    std::fflush(stdout);
                            });
    return exit_code(st);
}

}  // namespace volt::cli::verbs
