#include "runtime/verbs/devices.hpp"

namespace volt::runtime {

Result<std::vector<cgroup::DeviceRule>> device_rules(const Spec& spec) {
    std::vector<cgroup::DeviceRule> rules;
    for (const auto& d : cgroup::default_devices())
        rules.push_back(d.rule);
    for (const auto& d : spec.devices) {
        auto access = cgroup::parse_access(d.access);
        if (!access)
            return Error(EINVAL, "device " + d.path + ": invalid access '" + d.access + "'");
        auto rule = cgroup::rule_for_node(d.path, *access);
        if (!rule)
            return Error::usage("--device " + d.path + ": " + rule.error().describe() +
                                " (it was a device node at create)");
        rules.push_back(*rule);
    }
    return rules;
}

std::vector<std::string> unit_device_allow(const Spec& spec) {
    std::vector<std::string> out;
    for (const auto& d : cgroup::default_devices())
        out.push_back(std::string(d.unit_name) + " " + cgroup::access_letters(d.rule.access));
    for (const auto& d : spec.devices)
        out.push_back(d.path + " " + d.access);
    return out;
}

}  // namespace volt::runtime
