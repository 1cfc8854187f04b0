// IPAM: container addresses leased from a subnet, recorded in a small text file. A lease belongs
// to a container name and lasts until it is released (at `delete`), so a container keeps its
// address across boots. The file is only read and written under the caller's network lock.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "netlink/address.hpp"

namespace volt::netlink {

class Leases {
  public:
    // Reads path (missing: no leases, no subnet yet), refusing a file that is not regular or
    // larger than max_bytes (fs::read_record). A damaged line (a lease, the subnet header, a
    // second lease of one address) is reported and skipped: it never fails the others.
    static Result<Leases> load(const std::string& path, std::size_t max_bytes = 16 << 20);
    // Leases from now on come from subnet. Refused while leases of another subnet remain: the
    // addresses of existing containers would silently change.
    Status use_subnet(const Subnet& subnet);

    // The name's address: its existing lease, else the lowest free address of the subnet that
    // is not `reserved` (the gateway of a bridge whose address is not the subnet's first).
    Result<Ipv4> lease(const std::string& name, std::optional<Ipv4> reserved = std::nullopt);
    // Drops the name's lease; false when it had none.
    bool release(const std::string& name);
    std::vector<std::string> holders() const;
    const std::optional<Subnet>& subnet() const { return subnet_; }

    // Whether lease, release or use_subnet changed anything since load.
    bool changed() const { return changed_; }
    // Replaces the file atomically (and durably: the file outlives reboots).
    Status save() const;

  private:
    explicit Leases(std::string path) : path_(std::move(path)) {}
    std::string path_;
    std::optional<Subnet> subnet_;
    std::map<Ipv4, std::string> by_address_;
    bool changed_ = false;
};

}  // namespace volt::netlink
