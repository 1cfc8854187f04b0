// Rendering of the files systemd reads for a container: the service unit that runs
// `volt-run boot NAME`, and the NAME.nspawn settings file. Pure functions, tested byte for byte;
// writing them is the runtime's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace volt::units {

// "volt-hybrid@NAME.service", the name Volt users know from the old backend.
std::string service_name(std::string_view container);

struct ServiceParams {
    std::string container;
    // The volt-run binary and its global options: ExecStart= adds "boot NAME", ExecStopPost=
    // "stop NAME".
    std::vector<std::string> volt_run;
    // The container's device policy: DevicePolicy=closed and one DeviceAllow= per value
    // ("/dev/null rwm", "char-pts rw"), as systemd-nspawn@.service has it. systemd applies it to
    // the unit's cgroup, and boot attaches the same list to the container's own below it.
    std::vector<std::string> device_allow;
};
// Every value goes through quote_exec_arg or is escaped: no container name or path can end a line
// or add a directive.
std::string render_service(const ServiceParams& params);

struct Bind {
    std::string host;
    std::string container;
    bool read_only = false;
    bool idmap = false;  // an id-mapped bind mount (nspawn's "idmap" option)
};

// The subset of systemd.nspawn(5) settings volt-run uses. Every key rendered exists in
// systemd 252's parser; nothing is written as a comment pretending to be a setting.
struct NspawnSettings {
    std::string container;
    std::string private_users;  // "pick" or "no"
    bool notify_ready = false;
    std::string kill_signal;               // empty: nspawn's default (SIGRTMIN+3)
    std::vector<std::string> environment;  // KEY=VALUE
    bool read_only = false;
    std::vector<Bind> binds;
    bool private_network = false;  // the container gets its own network namespace
};
// Environment= values through quote_nspawn_word; binds verbatim, as nspawn reads them. A value
// the file cannot hold as given (a control character; for a bind also ':' or trailing space) is
// left out rather than written differently: volt-run boot passes every setting on nspawn's command
// line, and build_spec refuses such values before they get here.
std::string render_nspawn(const NspawnSettings& settings);

// Quotes one ExecStart= argument per systemd.service(5) "Command lines" and systemd.syntax(7):
// '%' doubled (specifiers) and '$' doubled (variable expansion) everywhere; in double quotes
// where needed (white space, quotes, ';', a backslash, an escape), '\' and '"' escaped; every
// control character, DEL and non-ASCII byte as \xNN. The result is one line of ASCII that systemd
// reads back as exactly `arg`, whatever it holds. (The first word of a command line must not start
// with one of systemd's prefixes @-:+!, quoted or not: volt-run's is an absolute path.)
std::string quote_exec_arg(std::string_view arg);

// One word of a list setting of a .nspawn file (Environment=), as nspawn's parser splits it
// (config_parse_strv: white space separates, quotes are removed, a backslash is literal, no
// specifiers): as is when it needs no quotes, else double-quoted with each '"' in single quotes
// ("a"'"'"b c" is a"b c). Empty when no line can hold it (a control character).
std::string quote_nspawn_word(std::string_view word);

}  // namespace volt::units
