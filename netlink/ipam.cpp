#include "netlink/ipam.hpp"

#include "base/fs.hpp"
#include "base/log.hpp"
#include "base/text.hpp"

namespace volt::netlink {
namespace {
constexpr std::string_view kHeader = "# volt-run leases, subnet ";
}

Result<Leases> Leases::load(const std::string& path, std::size_t max_bytes) {
    Leases leases(path);
    auto text = fs::read_record(path, max_bytes);
    if (!text) {
        if (text.error().code() == ENOENT)
            return leases;
        return std::move(text).error();
    }
    int line_no = 0;
    for (auto line : fs::split(*text, '\n')) {
        ++line_no;
        // A damaged line is one container's problem, not every container's: it is reported and
        // skipped (and gone from the file once it is written again).
        auto skip = [&](const char* why) {
            log::warn("%s:%d: %s '%s', skipped", path.c_str(), line_no, why,
                      text::printable(line).c_str());
        };
        if (line.starts_with(kHeader)) {
            if (auto subnet = parse_subnet(line.substr(kHeader.size())))
                leases.subnet_ = *subnet;
            else
                skip("malformed subnet header");
            continue;
        }
        auto w = fs::words(line);
        if (w.empty())
            continue;
        auto addr = w.size() == 2 ? parse_ipv4(w[0]) : Result<Ipv4>(Error(EINVAL, "words"));
        if (!addr || text::has_control(w[1])) {
            skip("malformed lease");
            continue;
        }
        if (leases.by_address_.count(*addr)) {
            skip("second lease of one address");
            continue;
        }
        leases.by_address_[*addr] = std::string(w[1]);
    }
    // Leases without a header (it was damaged) take the subnet use_subnet gives them.
    return leases;
}

Status Leases::use_subnet(const Subnet& subnet) {
    if (!by_address_.empty() && subnet_ && *subnet_ != subnet)
        return Error(EINVAL, path_ + " holds leases in subnet " + to_string(*subnet_) + ", not " +
                                 to_string(subnet) +
                                 "; delete those containers before changing the subnet");
    changed_ = changed_ || subnet_ != subnet;
    subnet_ = subnet;
    return {};
}

Result<Ipv4> Leases::lease(const std::string& name, std::optional<Ipv4> reserved) {
    if (!subnet_)
        return Error(EINVAL, path_ + ": no subnet to lease from");
    const Subnet& subnet = *subnet_;
    for (const auto& [addr, holder] : by_address_)
        if (holder == name)
            return addr;
    Ipv4 candidate = subnet.first_lease();
    auto taken = [&](Ipv4 a) { return by_address_.count(a) || (reserved && *reserved == a); };
    while (candidate.value <= subnet.last_lease().value && taken(candidate))
        candidate.value++;
    if (candidate.value > subnet.last_lease().value)
        return Error(ENOSPC, "no free address left in " + to_string(subnet) + " (" +
                                 std::to_string(by_address_.size()) + " leases in " + path_ + ")");
    by_address_[candidate] = name;
    changed_ = true;
    return candidate;
}

bool Leases::release(const std::string& name) {
    // Every lease of the name: a damaged file may hold more than one.
    auto erased = std::erase_if(by_address_, [&](const auto& kv) { return kv.second == name; });
    changed_ = changed_ || erased > 0;
    return erased > 0;
}

std::vector<std::string> Leases::holders() const {
    std::vector<std::string> names;
    for (const auto& [addr, holder] : by_address_)
        names.push_back(holder);
    return names;
}

Status Leases::save() const {
    std::string text = subnet_ ? std::string(kHeader) + to_string(*subnet_) + "\n" : "";
    for (const auto& [addr, holder] : by_address_)
        text += to_string(addr) + " " + holder + "\n";
    return fs::write_file_atomic(path_, text, 0644);
}

}  // namespace volt::netlink
