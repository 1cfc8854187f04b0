// nftables over libnftnl and libmnl: one table, `ip volt`, owned by volt-run. Each container has
// NAT base chains of its own, named after it (NAME:prerouting, NAME:output, NAME:postrouting),
// and every rule in them carries its name as the rule's comment too, so `nft list table ip volt`
// shows whose a rule is. Its rules are replaced and removed by the chains' names alone: no change
// reads the table, so a change costs the same with one container or a hundred, and what a crashed
// run left is found by its name without any state of ours. Each change is one atomic batch.
// (Versions before issue 17 put every container's rules into three shared chains, prerouting,
// output and postrouting; remove() still takes a container's rules out of those.)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "netlink/address.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace volt::netlink {

inline constexpr const char* kNftTable = "volt";

// The names of the container's own base chains, in the order prerouting, output, postrouting.
// A container name holds no ':' (validate_name), so no two containers' chains share a name, and
// none is a shared chain of the old layout.
std::vector<std::string> nft_chains_of(const std::string& owner);

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

// The batch apply(nat) sends: the table and the owner's chains where missing (NLM_F_CREATE
// without NLM_F_EXCL: existing ones stay), each of its chains flushed (a rule deletion naming the
// chain and no handle), nat's rules in. Sequence numbers start at seq. Pure: no socket, the same
// bytes for the same values.
NftBatch encode_apply(const ContainerNat& nat, std::uint32_t seq);
// The batch removing the owner's chains (each made where missing, so that the batch holds
// wherever some of them are gone, flushed and deleted) and deleting `legacy`, rules of the old
// shared chains, by handle. With with_chains false, only `legacy`; nothing at all gives a batch
// with no message to acknowledge.
NftBatch encode_remove(const std::string& owner, bool with_chains,
                       const std::vector<NftRule>& legacy, std::uint32_t seq);

class Nftables {
  public:
    static Result<Nftables> open();
    // Talks over `fd`, an nftables netlink socket another process (boot's parent) opened and
    // keeps: a copy of it (F_DUPFD_CLOEXEC), so that our close is never the socket's last one.
    // When the last close of such a socket comes within an RCU grace period of a commit, the
    // kernel makes it wait for that grace period (nf_tables flushes its pending destroy work on
    // NETLINK_URELEASE): up to tens of milliseconds on a quiet machine.
    static Result<Nftables> adopt(int fd);
    int fd() const;
    Nftables(Nftables&&) noexcept;
    Nftables& operator=(Nftables&&) noexcept;
    ~Nftables();

    // One batch, encode_apply's bytes exactly: the table and chains where missing, the owner's
    // earlier rules out, the new in. Reads nothing first. Succeeds only when every message was
    // acknowledged without error. Needs CAP_NET_ADMIN.
    Status apply(const ContainerNat& nat);
    // Removes the owner's chains and its rules in the old shared chains, looked up by name (a
    // chain lookup, and a listing of the old chains only where they exist); nothing of the
    // owner's there is success.
    Status remove(const std::string& owner);
    // The rules of the table (none when there is no table), or of one chain of it (none when
    // there is no such chain).
    Result<std::vector<NftRule>> rules(const std::string& chain = "");
    // The names of the table's chains (none when there is no table).
    Result<std::vector<std::string>> chains();
    // Whether the table has a chain of that name.
    Result<bool> has_chain(const std::string& name);

  private:
    explicit Nftables(mnl_socket* sock);
    Status send(const NftBatch& batch);
    using DumpParser = int (*)(const nlmsghdr*, void*);
    template <class T>
    Status dump(std::uint16_t type, const std::string& chain, DumpParser parse, std::vector<T>& out,
                const char* what);
    mnl_socket* sock_;
    std::uint32_t seq_;
};

}  // namespace volt::netlink
