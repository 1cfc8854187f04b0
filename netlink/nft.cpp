#include "netlink/nft.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>

namespace volt::netlink {
namespace {

// Owners for libnftnl objects (whose free functions take const pointers).
template <class T, void (*FreeFn)(const T*)>
struct Free {
    void operator()(T* p) const { FreeFn(p); }
};
using RulePtr = std::unique_ptr<nftnl_rule, Free<nftnl_rule, nftnl_rule_free>>;
using TablePtr = std::unique_ptr<nftnl_table, Free<nftnl_table, nftnl_table_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, Free<nftnl_chain, nftnl_chain_free>>;
using UdataPtr = std::unique_ptr<nftnl_udata_buf, Free<nftnl_udata_buf, nftnl_udata_buf_free>>;

struct Chain {
    const char* name;
    std::uint32_t hook;
    std::int32_t priority;
};
// The priorities nft calls dstnat (-100) and srcnat (100).
constexpr Chain kPrerouting{"prerouting", NF_INET_PRE_ROUTING, -100};
constexpr Chain kOutput{"output", NF_INET_LOCAL_OUT, -100};
constexpr Chain kPostrouting{"postrouting", NF_INET_POST_ROUTING, 100};

// A rule under construction; the expressions mirror what `nft` emits for the same rule text.
class RuleBuilder {
  public:
    RuleBuilder(const char* chain, const std::string& owner) : r_(nftnl_rule_alloc()) {
        nftnl_rule_set_str(r_.get(), NFTNL_RULE_TABLE, kNftTable);
        nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u32(r_.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
        UdataPtr ud(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
        nftnl_udata_put_strz(ud.get(), NFTNL_UDATA_RULE_COMMENT, owner.c_str());
        nftnl_rule_set_data(r_.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud.get()),
                            nftnl_udata_buf_len(ud.get()));
    }
    nftnl_rule* get() const { return r_.get(); }

    // ip saddr/daddr ADDR[/PREFIX] (== or !=)
    RuleBuilder& ip(bool source, std::uint32_t net, std::uint32_t mask, bool equal = true) {
        load_payload(NFT_PAYLOAD_NETWORK_HEADER, source ? 12 : 16, 4);
        if (mask != ~0u)
            bitwise(htonl(mask));
        std::uint32_t n = htonl(net & mask);
        return cmp(equal ? NFT_CMP_EQ : NFT_CMP_NEQ, &n, sizeof n);
    }
    // oifname (!=) NAME
    RuleBuilder& oifname(const std::string& name, bool equal) {
        meta(NFT_META_OIFNAME);
        char buf[IFNAMSIZ] = {};
        std::memcpy(buf, name.data(), std::min(name.size(), sizeof buf - 1));
        return cmp(equal ? NFT_CMP_EQ : NFT_CMP_NEQ, buf, sizeof buf);
    }
    // fib daddr type local
    RuleBuilder& daddr_is_local() {
        nftnl_expr* e = add("fib");
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
        std::uint32_t local = RTN_LOCAL;
        return cmp(NFT_CMP_EQ, &local, sizeof local);
    }
    // meta l4proto P th dport PORT
    RuleBuilder& dport(std::uint8_t protocol, std::uint16_t port) {
        meta(NFT_META_L4PROTO);
        cmp(NFT_CMP_EQ, &protocol, sizeof protocol);
        load_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        std::uint16_t p = htons(port);
        return cmp(NFT_CMP_EQ, &p, sizeof p);
    }
    // ct status dnat
    RuleBuilder& was_dnatted() {
        nftnl_expr* e = add("ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        bitwise(IPS_DST_NAT);
        std::uint32_t zero = 0;
        return cmp(NFT_CMP_NEQ, &zero, sizeof zero);
    }
    // dnat to ADDR:PORT
    RuleBuilder& dnat(Ipv4 address, std::uint16_t port) {
        std::uint32_t a = address.network_order();
        std::uint16_t p = htons(port);
        nftnl_expr* e = add("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &a, sizeof a);
        e = add("immediate");
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &p, sizeof p);
        e = add("nat");
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
        return *this;
    }
    RuleBuilder& masquerade() {
        add("masq");
        return *this;
    }

  private:
    nftnl_expr* add(const char* name) {
        nftnl_expr* e = nftnl_expr_alloc(name);
        nftnl_rule_add_expr(r_.get(), e);  // the rule owns e
        return e;
    }
    void load_payload(std::uint32_t base, std::uint32_t offset, std::uint32_t len) {
        nftnl_expr* e = add("payload");
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    }
    void meta(std::uint32_t key) {
        nftnl_expr* e = add("meta");
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    }
    // reg1 = reg1 & mask (4 bytes)
    void bitwise(std::uint32_t mask) {
        std::uint32_t zero = 0;
        nftnl_expr* e = add("bitwise");
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof mask);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof mask);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
    }
    RuleBuilder& cmp(std::uint32_t op, const void* data, std::uint32_t len) {
        nftnl_expr* e = add("cmp");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
        return *this;
    }
    RulePtr r_;
};

// Builds an NftBatch. The buffer grows with the batch: libmnl's fixed batch buffer silently
// dropped what did not fit.
class Encoder {
  public:
    explicit Encoder(std::uint32_t seq) {
        b_.begin_seq = seq;
        b_.next_seq = seq + 1;
        append([&](char* at) { return nftnl_batch_begin(at, b_.begin_seq); });
    }
    Encoder(const Encoder&) = delete;

    void table() {
        TablePtr t(nftnl_table_alloc());
        nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kNftTable);
        nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
        message(NFT_MSG_NEWTABLE, NLM_F_CREATE, "table",
                [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
    }
    // The base chain `name` on c's hook, made where missing.
    void chain(const Chain& c, const std::string& name) {
        ChainPtr ch(nftnl_chain_alloc());
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, kNftTable);
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, name.c_str());
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TYPE, "nat");
        nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_HOOKNUM, c.hook);
        nftnl_chain_set_s32(ch.get(), NFTNL_CHAIN_PRIO, c.priority);
        nftnl_chain_set_u32(ch.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
        message(NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain " + name,
                [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, ch.get()); });
    }
    // Every rule of the chain out: a rule deletion naming the chain and no handle.
    void flush(const std::string& chain) {
        RulePtr r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kNftTable);
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
        message(NFT_MSG_DELRULE, 0, "flushing chain " + chain,
                [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r.get()); });
    }
    void delete_chain(const std::string& name) {
        ChainPtr ch(nftnl_chain_alloc());
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_TABLE, kNftTable);
        nftnl_chain_set_str(ch.get(), NFTNL_CHAIN_NAME, name.c_str());
        message(NFT_MSG_DELCHAIN, 0, "deleting chain " + name,
                [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, ch.get()); });
    }
    void add_rule(const RuleBuilder& r, const std::string& what) {
        message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, what,
                [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r.get()); });
    }
    void delete_rule(const NftRule& rule) {
        RulePtr r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kNftTable);
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, rule.chain.c_str());
        nftnl_rule_set_u64(r.get(), NFTNL_RULE_HANDLE, rule.handle);
        message(NFT_MSG_DELRULE, 0,
                "deleting rule " + std::to_string(rule.handle) + " of " + rule.owner,
                [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r.get()); });
    }
    NftBatch finish() && {
        append([&](char* at) { return nftnl_batch_end(at, b_.next_seq++); });
        return std::move(b_);
    }

  private:
    // A message is built in place at the end of the buffer, with room for any one message; the
    // room is zeroed, so the padding is too and the bytes are the same on every run.
    static constexpr std::size_t kMessageRoom = 16 * 1024;
    template <typename Build>
    void append(Build build) {
        std::size_t at = b_.bytes.size();
        b_.bytes.resize(at + kMessageRoom);
        nlmsghdr* nlh = build(b_.bytes.data() + at);
        b_.bytes.resize(at + NLMSG_ALIGN(nlh->nlmsg_len));
    }
    template <typename Payload>
    void message(std::uint16_t type, std::uint16_t flags, std::string what, Payload payload) {
        std::uint32_t seq = b_.next_seq++;
        b_.acked[seq] = std::move(what);
        append([&](char* at) {
            nlmsghdr* nlh = nftnl_nlmsg_build_hdr(
                at, type, NFPROTO_IPV4, static_cast<std::uint16_t>(flags | NLM_F_ACK), seq);
            payload(nlh);
            return nlh;
        });
    }
    NftBatch b_;
};

int collect_rule(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<std::vector<NftRule>*>(data);
    RulePtr r(nftnl_rule_alloc());
    if (nftnl_rule_nlmsg_parse(nlh, r.get()) < 0)
        return MNL_CB_OK;
    NftRule rule;
    rule.chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
    rule.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
    std::uint32_t len = 0;
    if (const void* ud = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &len)) {
        const nftnl_udata* attrs[NFTNL_UDATA_RULE_MAX + 1] = {};
        nftnl_udata_parse(
            ud, len,
            [](const nftnl_udata* attr, void* tb) {
                auto* table = static_cast<const nftnl_udata**>(tb);
                if (nftnl_udata_type(attr) <= NFTNL_UDATA_RULE_MAX)
                    table[nftnl_udata_type(attr)] = attr;
                return 0;
            },
            attrs);
        if (const nftnl_udata* c = attrs[NFTNL_UDATA_RULE_COMMENT])
            rule.owner.assign(
                static_cast<const char*>(nftnl_udata_get(c)),
                strnlen(static_cast<const char*>(nftnl_udata_get(c)), nftnl_udata_len(c)));
    }
    out->push_back(std::move(rule));
    return MNL_CB_OK;
}

int collect_chain(const nlmsghdr* nlh, void* data) {
    auto* out = static_cast<std::vector<std::string>*>(data);
    ChainPtr c(nftnl_chain_alloc());
    if (nftnl_chain_nlmsg_parse(nlh, c.get()) < 0)
        return MNL_CB_OK;
    // A chain dump holds every table's chains.
    const char* table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
    const char* name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
    if (table && name && std::strcmp(table, kNftTable) == 0)
        out->push_back(name);
    return MNL_CB_OK;
}

// The chains of the old layout, which every container's rules shared.
constexpr Chain kLegacyChains[] = {kPrerouting, kOutput, kPostrouting};

}  // namespace

std::vector<std::string> nft_chains_of(const std::string& owner) {
    std::vector<std::string> names;
    for (const Chain& c : kLegacyChains)
        names.push_back(owner + ":" + c.name);
    return names;
}

Nftables::Nftables(mnl_socket* sock)
    : sock_(sock), seq_(static_cast<std::uint32_t>(::time(nullptr))) {}

Nftables::Nftables(Nftables&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)), seq_(other.seq_) {}

Nftables& Nftables::operator=(Nftables&& other) noexcept {
    if (this != &other) {
        if (sock_)
            mnl_socket_close(sock_);
        sock_ = std::exchange(other.sock_, nullptr);
        seq_ = other.seq_;
    }
    return *this;
}

Nftables::~Nftables() {
    if (sock_)
        mnl_socket_close(sock_);
}

Result<Nftables> Nftables::open() {
    mnl_socket* sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!sock)
        return Error::from_errno("opening an nftables netlink socket");
    if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        Error err = Error::from_errno("binding the nftables netlink socket");
        mnl_socket_close(sock);
        return err;
    }
    return Nftables(sock);
}

int Nftables::fd() const {
    return mnl_socket_get_fd(sock_);
}

Result<Nftables> Nftables::adopt(int fd) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0)
        return Error::from_errno("duplicating the nftables netlink socket");
    mnl_socket* sock = mnl_socket_fdopen(copy);
    if (!sock) {
        Error err = Error::from_errno("adopting the nftables netlink socket");
        ::close(copy);
        return err;
    }
    return Nftables(sock);
}

// One dump request (NLM_F_DUMP) of `type` for the table, or one chain of it, and its answers
// parsed by `parse`; ENOENT (no such table or chain) is an empty answer.
template <class T>
Status Nftables::dump(std::uint16_t type, const std::string& chain, DumpParser parse,
                      std::vector<T>& out, const char* what) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    std::uint32_t seq = seq_++;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_IPV4, NLM_F_DUMP, seq);
    if (type == NFT_MSG_GETRULE) {
        RulePtr filter(nftnl_rule_alloc());
        nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, kNftTable);
        if (!chain.empty())
            nftnl_rule_set_str(filter.get(), NFTNL_RULE_CHAIN, chain.c_str());
        nftnl_rule_nlmsg_build_payload(nlh, filter.get());
    } else {
        ChainPtr filter(nftnl_chain_alloc());
        nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, kNftTable);
        nftnl_chain_nlmsg_build_payload(nlh, filter.get());
    }
    if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0)
        return Error::from_errno(std::string("asking nftables for ") + what);
    std::uint32_t portid = mnl_socket_get_portid(sock_);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
        if (n < 0)
            return Error::from_errno(std::string("reading ") + what);
        int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, parse, &out);
        if (r == MNL_CB_STOP)
            return {};
        if (r < 0) {
            if (errno == ENOENT) {  // no such table or chain
                out.clear();
                return {};
            }
            return Error::from_errno(std::string("listing ") + what);
        }
    }
}

Result<std::vector<std::string>> Nftables::chains() {
    std::vector<std::string> out;
    VOLT_TRY(dump(NFT_MSG_GETCHAIN, "", collect_chain, out,
                  ("the chains of table " + std::string(kNftTable)).c_str()));
    return out;
}

Result<bool> Nftables::has_chain(const std::string& name) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    std::uint32_t seq = seq_++;
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_IPV4, 0, seq);
    ChainPtr c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kNftTable);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0)
        return Error::from_errno("asking nftables for chain " + name);
    std::vector<std::string> found;
    std::uint32_t portid = mnl_socket_get_portid(sock_);
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0)
        return Error::from_errno("reading chain " + name);
    if (mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, collect_chain, &found) < 0) {
        if (errno == ENOENT)  // no such chain, or no table
            return false;
        return Error::from_errno("looking up chain " + name);
    }
    return !found.empty();
}

Result<std::vector<NftRule>> Nftables::rules(const std::string& chain) {
    std::vector<NftRule> out;
    VOLT_TRY(dump(NFT_MSG_GETRULE, chain, collect_rule, out,
                  ("the rules of table " + std::string(kNftTable)).c_str()));
    return out;
}

NftBatch encode_apply(const ContainerNat& nat, std::uint32_t seq) {
    Encoder batch(seq);
    batch.table();
    const std::vector<std::string> chains = nft_chains_of(nat.owner);
    const std::string &prerouting = chains[0], &output = chains[1], &postrouting = chains[2];
    for (std::size_t i = 0; i < chains.size(); ++i)
        batch.chain(kLegacyChains[i], chains[i]);
    for (const auto& c : chains)
        batch.flush(c);
    const std::uint32_t a = nat.address.value;
    auto add = [&](const RuleBuilder& r, const std::string& what) {
        batch.add_rule(r, nat.owner + ": " + what);
    };
    add(RuleBuilder(postrouting.c_str(), nat.owner)
            .ip(true, a, ~0u)
            .oifname(nat.bridge, false)
            .masquerade(),
        "masquerade");
    if (!nat.ports.empty()) {
        add(RuleBuilder(postrouting.c_str(), nat.owner)
                .ip(true, 0x7f000000, 0xff000000)
                .ip(false, a, ~0u)
                .masquerade(),
            "masquerade of forwards from loopback");
        add(RuleBuilder(postrouting.c_str(), nat.owner)
                .ip(true, nat.subnet.network.value, nat.subnet.mask())
                .ip(false, a, ~0u)
                .was_dnatted()
                .masquerade(),
            "masquerade of forwards from " + to_string(nat.subnet));
    }
    for (const auto& p : nat.ports) {
        std::string what = std::string(p.protocol == IPPROTO_UDP ? "udp" : "tcp") + " port " +
                           std::to_string(p.host_port);
        for (const std::string* c : {&prerouting, &output})
            add(RuleBuilder(c->c_str(), nat.owner)
                    .daddr_is_local()
                    .dport(p.protocol, p.host_port)
                    .dnat(nat.address, p.container_port),
                what);
    }
    return std::move(batch).finish();
}

NftBatch encode_remove(const std::string& owner, bool with_chains,
                       const std::vector<NftRule>& legacy, std::uint32_t seq) {
    Encoder batch(seq);
    if (with_chains) {
        const std::vector<std::string> chains = nft_chains_of(owner);
        for (std::size_t i = 0; i < chains.size(); ++i)
            batch.chain(kLegacyChains[i], chains[i]);
        for (const auto& c : chains) {
            batch.flush(c);
            batch.delete_chain(c);
        }
    }
    for (const auto& rule : legacy)
        batch.delete_rule(rule);
    return std::move(batch).finish();
}

// Sends the batch; the kernel applies all of it or nothing, and queues every answer before
// sendto returns: one per message (NLM_F_ACK), plus one for the batch when the commit itself
// fails. Succeeds only when each message was acknowledged without error: "no error seen yet" is
// never taken for success.
Status Nftables::send(const NftBatch& batch) {
    seq_ = batch.next_seq;
    const int fd = mnl_socket_get_fd(sock_);
    // Room for the whole batch in one send, and for every answer: a bigger batch than the
    // socket's default buffers fails (EMSGSIZE) or loses answers (ENOBUFS) otherwise.
    // SO_*BUFFORCE needs CAP_NET_ADMIN, which building NAT needs anyway.
    int sndbuf = static_cast<int>(batch.bytes.size()) * 2;
    int rcvbuf = static_cast<int>(batch.acked.size()) * 1024 + 64 * 1024;
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    int one = 1;  // answers carry the header of the message, not its payload
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    if (mnl_socket_sendto(sock_, batch.bytes.data(), batch.bytes.size()) < 0)
        return Error::from_errno("sending the nftables batch (" +
                                 std::to_string(batch.bytes.size()) + " bytes)");
    std::vector<char> reply(MNL_SOCKET_BUFFER_SIZE);
    Status first;
    auto fail = [&first](Error e) {
        if (first.ok())
            first = std::move(e);
    };
    const std::size_t expected = batch.acked.size();
    std::size_t acked = 0;
    std::map<std::uint32_t, bool> seen;
    while (acked < expected) {
        ssize_t n = ::recv(fd, reply.data(), reply.size(), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            fail(Error(EPROTO, "nftables: " + std::to_string(expected - acked) + " of " +
                                   std::to_string(expected) + " messages were not acknowledged"));
            return first;
        }
        if (n < 0)
            return Error::from_errno("reading the nftables answers");
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<nlmsghdr*>(reply.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_type != NLMSG_ERROR)
                continue;
            auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
            const std::uint32_t seq = err->msg.nlmsg_seq;
            if (seq == batch.begin_seq) {  // the commit failed as a whole
                fail(Error(-err->error, "nftables: committing the batch"));
                continue;
            }
            auto what = batch.acked.find(seq);
            if (what == batch.acked.end() || seen[seq])
                continue;
            seen[seq] = true;
            ++acked;
            if (err->error != 0)
                fail(Error(-err->error, "nftables: " + what->second));
        }
    }
    return first;
}

Status Nftables::apply(const ContainerNat& nat) {
    return send(encode_apply(nat, seq_));
}

Status Nftables::remove(const std::string& owner) {
    // Its chains are made together, in one batch: the postrouting one tells whether there are any.
    VOLT_TRY_ASSIGN(bool chains, has_chain(nft_chains_of(owner)[2]));
    std::vector<NftRule> legacy;
    for (const Chain& c : kLegacyChains) {
        VOLT_TRY_ASSIGN(auto rules, this->rules(c.name));
        for (auto& r : rules)
            if (r.owner == owner)
                legacy.push_back(std::move(r));
    }
    if (!chains && legacy.empty())
        return {};
    return send(encode_remove(owner, chains, legacy, seq_));
}

}  // namespace volt::netlink
