#include "runtime/paths.hpp"

#include <cstdlib>

#include "base/fs.hpp"
#include "units/units.hpp"

namespace volt::runtime {

Paths Paths::from_environment() {
    Paths p;
    auto take = [](const char* var, std::string& field) {
        const char* v = std::getenv(var);
        if (v && *v)
            field = fs::absolute(v);
    };
    take("VOLT_ROOT", p.root);
    take("VOLT_UNIT_DIR", p.unit_dir);
    take("VOLT_NSPAWN_DIR", p.nspawn_dir);
    take("VOLT_RUN_DIR", p.run_dir);
    take("VOLT_CGROUP_ROOT", p.cgroup_root);
    if (const char* v = std::getenv("VOLT_SUBNET"); v && *v)
        p.subnet = v;
    return p;
}

std::string Paths::unit_file(const std::string& name) const {
    return unit_dir + "/" + units::service_name(name);
}

}  // namespace volt::runtime
