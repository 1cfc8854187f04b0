// nftables over libnftnl and libmnl: one table, `ip volt`, owned by volt-run, with three NAT base
// chains (prerouting, output, postrouting). Every rule in them belongs to one container and
// carries its name as the rule's comment, so `nft list table ip volt` shows whose a rule is and
// stale rules can be found after a crash without any state of ours. Each change is one atomic
// batch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "netlink/address.hpp"

struct mnl_socket;

namespace volt::netlink {

inline constexpr const char* kNftTable = "volt";

struct PortRule {
    std::uint8_t protocol = 0;  // IPPROTO_TCP or IPPROTO_UDP
    std::uint16_t host_port = 0;
    std::uint16_t container_port = 0;
};

// The NAT of one container:
// - masquerade what it sends out of any interface other than its bridge;
// - DNAT of each host port to it, for connections to any local address of the host, coming from
//   outside (prerouting) or from the host itself (output), loopback included;
// - masquerade of forwarded connections that come from loopback or from the bridge's own subnet
//   (hairpin), so that the replies come back through the host.
struct ContainerNat {
    std::string owner;  // the container's name
    Ipv4 address;
    std::string bridge;
    Subnet subnet;
    std::vector<PortRule> ports;
};

struct NftRule {
    std::string chain;
    std::uint64_t handle = 0;
    std::string owner;  // the comment
};

// One nftables batch as the kernel receives it: the netlink messages, batch begin and end
// included, back to back. Every message between begin and end asks for an acknowledgement
// (NLM_F_ACK) and is listed in `acked` under its sequence number, with what it does for errors
// ("web1: tcp port 8080"); an answer to begin_seq is the failure of the commit as a whole.
struct NftBatch {
    std::vector<char> bytes;
    std::uint32_t begin_seq = 0;
    std::map<std::uint32_t, std::string> acked;
    std::uint32_t next_seq = 0;  // the first sequence number after the batch's
};

// The batch apply(nat) sends, given the table's rules as they are: the table and chains where
// missing (NLM_F_CREATE without NLM_F_EXCL: existing ones stay), the owner's rules among
// `existing` out, nat's rules in. Sequence numbers start at seq. Pure: no socket, the same bytes
// for the same values.
NftBatch encode_apply(const ContainerNat& nat, const std::vector<NftRule>& existing,
                      std::uint32_t seq);
// The batch deleting `rules`; an empty list gives a batch with no message to acknowledge.
NftBatch encode_remove(const std::vector<NftRule>& rules, std::uint32_t seq);

class Nftables {
  public:
    static Result<Nftables> open();
    Nftables(Nftables&&) noexcept;
    Nftables& operator=(Nftables&&) = delete;
    ~Nftables();

    // One batch, encode_apply's bytes exactly: the table and chains where missing, the owner's
    // earlier rules out, the new in. Succeeds only when every message was acknowledged without
    // error. Needs CAP_NET_ADMIN.
    Status apply(const ContainerNat& nat);
    // One batch removing every rule whose owner matches; no such rules is success.
    Status remove_if(const std::function<bool(const std::string& owner)>& match);
    Status remove(const std::string& owner) {
        return remove_if([&](const std::string& o) { return o == owner; });
    }
    // The rules of the table (none when there is no table).
    Result<std::vector<NftRule>> rules();

  private:
    explicit Nftables(mnl_socket* sock);
    Status send(const NftBatch& batch);
    mnl_socket* sock_;
    std::uint32_t seq_;
};

}  // namespace volt::netlink
