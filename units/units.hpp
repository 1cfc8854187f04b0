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
};
std::string render_service(const ServiceParams& params);

struct Bind {
    std::string host;
    std::string container;
    bool read_only = false;
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
std::string render_nspawn(const NspawnSettings& settings);

// Quotes one ExecStart= argument per systemd.service(5): double quotes where needed, '\' and '"'
// escaped, '%' doubled (specifier) and '$' doubled (variable expansion).
std::string quote_exec_arg(std::string_view arg);

}  // namespace volt::units
