#include "netlink/ipam.hpp"

#include "base/fs.hpp"

namespace volt::netlink {
namespace {
constexpr std::string_view kHeader = "# volt-run leases, subnet ";
}

Result<Leases> Leases::load(const std::string& path) {
    Leases leases(path);
    auto text = fs::read_file(path);
    if (!text) {
        if (text.error().code() == ENOENT)
            return leases;
        return std::move(text).error();
    }
    int line_no = 0;
    for (auto line : fs::split(*text, '\n')) {
        ++line_no;
        if (line.starts_with(kHeader)) {
            VOLT_TRY_ASSIGN_CTX(Subnet subnet, parse_subnet(line.substr(kHeader.size())),
                                path + ":" + std::to_string(line_no));
            leases.subnet_ = subnet;
            continue;
        }
        auto w = fs::words(line);
        if (w.empty())
            continue;
        auto addr =
            w.size() == 2 ? parse_ipv4(w[0]) : Result<Ipv4>(Error(EINVAL, "not ADDRESS NAME"));
        if (!addr)
            return Error(EINVAL, path + ":" + std::to_string(line_no) + ": malformed lease '" +
                                     std::string(line) + "'");
        leases.by_address_[*addr] = std::string(w[1]);
    }
    if (!leases.by_address_.empty() && !leases.subnet_)
        return Error(EINVAL, path + ": leases without a subnet header");
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
    for (auto it = by_address_.begin(); it != by_address_.end(); ++it)
        if (it->second == name) {
            by_address_.erase(it);
            changed_ = true;
            return true;
        }
    return false;
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
