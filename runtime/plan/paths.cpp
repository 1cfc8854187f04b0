#include "runtime/plan/paths.hpp"

#include <cstdlib>

#include "base/fs.hpp"
#include "base/text.hpp"
#include "units/units.hpp"

namespace volt::runtime {

Paths Paths::from_environment() {
    Paths p;
    auto take = [](const char* var, std::string& field) {
        const char* v = std::getenv(var);
        if (v && *v)
            field = v;
    };
    take("VOLT_ROOT", p.root);
    take("VOLT_UNIT_DIR", p.unit_dir);
    take("VOLT_NSPAWN_DIR", p.nspawn_dir);
    take("VOLT_RUN_DIR", p.run_dir);
    take("VOLT_CGROUP_ROOT", p.cgroup_root);
    take("VOLT_SUBNET", p.subnet);
    p.invocation_id = std::getenv("INVOCATION_ID") != nullptr;
    take("DBUS_SYSTEM_BUS_ADDRESS", p.system_bus_address);
    take("TERM", p.term);
    take("VOLT_LANDLOCK_MAX_ABI", p.landlock_max_abi);
    take("VOLT_TIMING_FD", p.timing_fd);
    take("TMPDIR", p.tmp_dir);
    std::string fault_point, fault_trace;
    take("VOLT_FAULT", fault_point);
    take("VOLT_FAULT_TRACE", fault_trace);
    p.fault = fault::kill_at(std::move(fault_point), std::move(fault_trace));
    return p;
}

std::string Paths::unit_file(const std::string& name) const {
    return unit_dir + "/" + units::service_name(name);
}

Result<std::string> check_global_path(std::string_view option, std::string_view value) {
    auto bad = [&](const char* why) {
        return Error::usage(std::string(option) + ": invalid value '" + text::printable(value) +
                            "': " + why);
    };
    if (value.empty())
        return bad("a directory is required");
    if (text::has_control(value))
        return bad("control characters are not allowed");
    if (!text::valid_utf8(value))
        return bad("not valid UTF-8");
    if (value[0] != '/')
        return bad("the path must be absolute");
    for (auto part : fs::split(value, '/'))
        if (part == "..")
            return bad("the path must not contain '..'");
    // Lexical only: with no ".." left, collapsing "//" and "/./" and dropping a trailing '/'
    // names the same directory.
    std::string canonical = fs::absolute(value);
    if (canonical == "/")
        return bad("the path must not be /");
    return canonical;
}

Status check_paths(const Paths& p) {
    struct Field {
        const char* option;
        const std::string& value;
    };
    for (const Field& f : {Field{"--root", p.root}, Field{"--unit-dir", p.unit_dir},
                           Field{"--nspawn-dir", p.nspawn_dir}, Field{"--run-dir", p.run_dir},
                           Field{"--cgroup-root", p.cgroup_root}}) {
        if (f.value.empty() && std::string_view(f.option) == "--cgroup-root")
            continue;  // found at run time
        VOLT_TRY(check_global_path(f.option, f.value));
    }
    return {};
}

}  // namespace volt::runtime
