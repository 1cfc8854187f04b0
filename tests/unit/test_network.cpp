// Pure parts of the network: subnets, derived names and MACs, leases, nameservers, the network
// plan and the nftables bytes (both against golden files).
#include <stdio.h>  // libnftnl/expr.h uses FILE without including it

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>

#include "base/fs.hpp"
#include "netlink/address.hpp"
#include "netlink/ipam.hpp"
#include "netlink/names.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/network_plan.hpp"
#include "runtime/verbs/network.hpp"
#include "support.hpp"

using namespace volt;
using namespace volt::netlink;

namespace {

// The netlink messages of a batch, one slice each.
std::vector<const nlmsghdr*> messages(const NftBatch& batch) {
    std::vector<const nlmsghdr*> out;
    std::size_t at = 0;
    while (at + sizeof(nlmsghdr) <= batch.bytes.size()) {
        auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes.data() + at);
        REQUIRE(nlh->nlmsg_len >= sizeof(nlmsghdr));
        REQUIRE(at + nlh->nlmsg_len <= batch.bytes.size());
        out.push_back(nlh);
        at += NLMSG_ALIGN(nlh->nlmsg_len);
    }
    CHECK(at == batch.bytes.size());
    return out;
}

std::string type_name(std::uint16_t type) {
    switch (type) {
        case NFNL_MSG_BATCH_BEGIN:
            return "BATCH_BEGIN";
        case NFNL_MSG_BATCH_END:
            return "BATCH_END";
    }
    if (type >> 8 != NFNL_SUBSYS_NFTABLES)
        return "type " + std::to_string(type);
    switch (type & 0xff) {
        case NFT_MSG_NEWTABLE:
            return "NFT_MSG_NEWTABLE";
        case NFT_MSG_NEWCHAIN:
            return "NFT_MSG_NEWCHAIN";
        case NFT_MSG_NEWRULE:
            return "NFT_MSG_NEWRULE";
        case NFT_MSG_DELRULE:
            return "NFT_MSG_DELRULE";
    }
    return "NFT_MSG " + std::to_string(type & 0xff);
}

// One line per message: its type, sequence number and purpose, then its bytes in hex.
std::string hex_dump(const NftBatch& batch) {
    std::string out;
    for (const nlmsghdr* nlh : messages(batch)) {
        out += type_name(nlh->nlmsg_type) + " seq=" + std::to_string(nlh->nlmsg_seq);
        if (auto what = batch.acked.find(nlh->nlmsg_seq); what != batch.acked.end())
            out += " [" + what->second + "]";
        out += " ";
        const auto* bytes = reinterpret_cast<const unsigned char*>(nlh);
        static const char digits[] = "0123456789abcdef";
        for (std::size_t i = 0; i < NLMSG_ALIGN(nlh->nlmsg_len); ++i) {
            out += digits[bytes[i] >> 4];
            out += digits[bytes[i] & 0xf];
        }
        out += "\n";
    }
    return out;
}

ContainerNat golden_nat() {
    ContainerNat nat;
    nat.owner = "web1";
    nat.address = *parse_ipv4("10.88.0.2");
    nat.bridge = "voltbr0";
    nat.subnet = *parse_subnet("10.88.0.0/16");
    nat.ports = {{IPPROTO_TCP, 8080, 80}, {IPPROTO_UDP, 5353, 53}};
    return nat;
}

// Rules of web1's in the shared chains of the layout before issue 17, as remove finds them.
std::vector<NftRule> golden_legacy() {
    return {{"postrouting", 7, "web1"}, {"prerouting", 9, "web1"}};
}

// The chain a message of the batch names (NFTA_*_CHAIN of a rule, NFTA_CHAIN_NAME of a chain).
std::string chain_of(const nlmsghdr* nlh) {
    const int type = nlh->nlmsg_type & 0xff;
    if (type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN) {
        std::unique_ptr<nftnl_chain, void (*)(const nftnl_chain*)> c(nftnl_chain_alloc(),
                                                                     nftnl_chain_free);
        REQUIRE(nftnl_chain_nlmsg_parse(nlh, c.get()) >= 0);
        return nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
    }
    std::unique_ptr<nftnl_rule, void (*)(const nftnl_rule*)> r(nftnl_rule_alloc(), nftnl_rule_free);
    REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) >= 0);
    return nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
}

// "TYPE CHAIN" for each message between the batch's begin and end ("table" for the table).
std::vector<std::string> outline(const NftBatch& batch) {
    std::vector<std::string> out;
    auto msgs = messages(batch);
    for (std::size_t i = 1; i + 1 < msgs.size(); ++i) {
        const int type = msgs[i]->nlmsg_type & 0xff;
        const char* name = type == NFT_MSG_NEWTABLE   ? "newtable"
                           : type == NFT_MSG_NEWCHAIN ? "newchain"
                           : type == NFT_MSG_DELCHAIN ? "delchain"
                           : type == NFT_MSG_NEWRULE  ? "newrule"
                           : type == NFT_MSG_DELRULE  ? "delrule"
                                                      : "other";
        out.push_back(type == NFT_MSG_NEWTABLE ? std::string(name)
                                               : std::string(name) + " " + chain_of(msgs[i]));
    }
    return out;
}

struct RuleFree {
    void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};

// A rule message parsed back by libnftnl: its chain and one line per expression, as libnftnl
// prints them ("[ payload load 4b @ network header + 12 => reg 1 ]").
std::pair<std::string, std::vector<std::string>> parse_rule(const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
    REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) >= 0);
    std::vector<std::string> exprs;
    nftnl_expr_foreach(
        r.get(),
        [](nftnl_expr* e, void* data) {
            char buf[512];
            nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
            static_cast<std::vector<std::string>*>(data)->push_back(
                std::string(nftnl_expr_get_str(e, NFTNL_EXPR_NAME)) + " " + buf);
            return 0;
        },
        &exprs);
    return {nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN), exprs};
}

}  // namespace

TEST_CASE("subnets parse, and bad ones are refused naming the value", "[unit]") {
    auto s = parse_subnet("10.88.0.0/16");
    REQUIRE(s);
    CHECK(to_string(*s) == "10.88.0.0/16");
    CHECK(to_string(s->gateway()) == "10.88.0.1");
    CHECK(to_string(s->first_lease()) == "10.88.0.2");
    CHECK(to_string(s->last_lease()) == "10.88.255.254");
    CHECK(s->contains(*parse_ipv4("10.88.200.3")));
    CHECK_FALSE(s->contains(*parse_ipv4("10.89.0.1")));
    for (const char* bad : {"10.88.0.0", "10.88.0.1/16", "10.88.0.0/31", "10.88.0.0/0",
                            "10.88.0/16", "10.88.0.0/16x", "fd00::/64"}) {
        auto r = parse_subnet(bad);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().describe(), Catch::Contains(std::string("'") + bad + "'"));
    }
    CHECK_THAT(parse_subnet("10.88.0.1/16").error().describe(),
               Catch::Contains("did you mean 10.88.0.0/16"));
}

TEST_CASE("a subnet no bridge can use is refused where it is given (issue 15)", "[unit]") {
    for (const char* bad : {"127.0.0.0/8", "127.1.0.0/16", "0.0.0.0/8", "0.0.0.0/1", "224.0.0.0/4",
                            "240.0.0.0/8", "255.255.255.0/24"}) {
        auto r = parse_subnet(bad);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().describe(), Catch::Contains(std::string("'") + bad + "': overlaps"));
    }
    for (const char* good : {"10.88.0.0/16", "192.168.7.0/30", "172.16.0.0/12", "1.0.0.0/8",
                             "128.0.0.0/2", "192.0.0.0/3"})
        CHECK(parse_subnet(good).ok());
}

TEST_CASE("host interface names fit IFNAMSIZ and are deterministic", "[unit]") {
    CHECK(host_ifname("web1") == "ve-web1");
    CHECK(host_ifname("twelve-chars") == "ve-twelve-chars");
    std::string long_a = host_ifname("a-very-long-container-name-1");
    std::string long_b = host_ifname("a-very-long-container-name-2");
    CHECK(long_a.size() == 15);
    CHECK(long_a.rfind("ve-a-ver+", 0) == 0);
    CHECK(long_a != long_b);
    CHECK(long_a == host_ifname("a-very-long-container-name-1"));
    // 64 bytes, the longest name create accepts.
    CHECK(host_ifname(std::string(64, 'x')).size() == 15);
}

TEST_CASE("MAC addresses are locally administered unicast, stable, per machine and name",
          "[unit]") {
    Mac a = derive_mac("machine-1", "container", "web1");
    CHECK((a[0] & 0x02) == 0x02);  // locally administered
    CHECK((a[0] & 0x01) == 0);     // unicast
    CHECK(a == derive_mac("machine-1", "container", "web1"));
    CHECK(a != derive_mac("machine-2", "container", "web1"));
    CHECK(a != derive_mac("machine-1", "host", "web1"));
    CHECK(a != derive_mac("machine-1", "container", "web2"));
    CHECK(to_string(Mac{0x0a, 0, 0xff, 1, 2, 3}) == "0a:00:ff:01:02:03");
}

TEST_CASE("leases: a damaged line is skipped, never fatal to the other containers", "[unit]") {
    test::TempDir dir;
    std::string path = dir / "voltbr0.leases";
    REQUIRE(fs::write_file_atomic(path,
                                  "# volt-run leases, subnet 10.88.0.0/16\n"
                                  "10.88.0.2 a\n"
                                  "garbage\n"
                                  "10.88.0.999 b\n"
                                  "10.88.0.3 c extra\n"
                                  "10.88.0.2 d\n"
                                  "10.88.0.4 e\x1b[2J\n"
                                  "10.88.0.5 f\n")
                .ok());
    auto leases = Leases::load(path);
    REQUIRE(leases);
    CHECK(leases->holders() == std::vector<std::string>{"a", "f"});
    REQUIRE(leases->use_subnet(*parse_subnet("10.88.0.0/16")));
    CHECK(to_string(*leases->lease("g")) == "10.88.0.3");
    CHECK(leases->release("a"));
    REQUIRE(leases->save());
    // Written again: the damaged lines are gone, the good ones kept.
    auto back = Leases::load(path);
    REQUIRE(back);
    CHECK(back->holders() == std::vector<std::string>{"g", "f"});
    // A damaged header: the leases stay, and take the subnet they are given.
    REQUIRE(
        fs::write_file_atomic(path, "# volt-run leases, subnet 10.88.0.0/99\n10.88.0.2 a\n").ok());
    auto headless = Leases::load(path);
    REQUIRE(headless);
    REQUIRE(headless->use_subnet(*parse_subnet("10.88.0.0/16")));
    CHECK(to_string(*headless->lease("a")) == "10.88.0.2");
    // Not a regular file, or too big: refused in one line, without blocking.
    REQUIRE(::mkfifo((dir / "fifo.leases").c_str(), 0600) == 0);
    auto fifo = Leases::load(dir / "fifo.leases");
    REQUIRE_FALSE(fifo);
    CHECK_THAT(fifo.error().describe(), Catch::Contains("not a regular file"));
    REQUIRE(fs::write_file_atomic(path, std::string(100, '#')).ok());
    auto big = Leases::load(path, 64);
    REQUIRE_FALSE(big);
    CHECK(big.error().code() == EFBIG);
}

TEST_CASE("leases: stable per name, lowest free first, released and reused", "[unit]") {
    test::TempDir dir;
    std::string path = dir / "voltbr0.leases";
    auto subnet = *parse_subnet("10.88.0.0/16");
    {
        auto leases = Leases::load(path);
        REQUIRE(leases);
        REQUIRE(leases->use_subnet(subnet));
        CHECK(to_string(*leases->lease("a")) == "10.88.0.2");
        CHECK(to_string(*leases->lease("b")) == "10.88.0.3");
        CHECK(to_string(*leases->lease("a")) == "10.88.0.2");
        REQUIRE(leases->save());
    }
    auto leases = Leases::load(path);
    REQUIRE(leases);
    CHECK(leases->holders() == std::vector<std::string>{"a", "b"});
    CHECK(leases->release("a"));
    CHECK_FALSE(leases->release("a"));
    CHECK(to_string(*leases->lease("c")) == "10.88.0.2");
    // A bridge whose own address is not the first one: that address is never leased.
    CHECK(to_string(*leases->lease("d", *parse_ipv4("10.88.0.4"))) == "10.88.0.5");
    REQUIRE(leases->save());
    auto other = Leases::load(path);
    REQUIRE(other);
    auto changed = other->use_subnet(*parse_subnet("10.99.0.0/16"));
    REQUIRE_FALSE(changed);
    CHECK_THAT(changed.error().describe(), Catch::Contains("holds leases in subnet 10.88.0.0/16"));
}

TEST_CASE("leases run out with a clear error", "[unit]") {
    test::TempDir dir;
    auto leases = Leases::load(dir / "small.leases");
    REQUIRE(leases);
    REQUIRE(leases->use_subnet(*parse_subnet("192.168.7.0/30")));  // .1 gateway, .2 the only host
    CHECK(to_string(*leases->lease("a")) == "192.168.7.2");
    auto none = leases->lease("b");
    REQUIRE_FALSE(none);
    CHECK(none.error().code() == ENOSPC);
    CHECK_THAT(none.error().describe(), Catch::Contains("no free address left in 192.168.7.0/30"));
}

TEST_CASE("nameservers: the spec's, else the host's non-loopback ones, else 1.1.1.1", "[unit]") {
    runtime::Spec spec;
    const char* host =
        "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
        "nameserver ::1\nnameserver 2001:db8::53\nsearch example.org\n";
    CHECK(runtime::nameservers(spec, host) ==
          std::vector<std::string>{"192.0.2.53", "2001:db8::53"});
    CHECK(runtime::nameservers(spec, "nameserver 127.0.0.53\n") ==
          std::vector<std::string>{"1.1.1.1", "1.0.0.1"});
    CHECK(runtime::nameservers(spec, "") == std::vector<std::string>{"1.1.1.1", "1.0.0.1"});
    spec.dns = {"9.9.9.9"};
    CHECK(runtime::nameservers(spec, host) == std::vector<std::string>{"9.9.9.9"});
}

TEST_CASE("the nft batch of a NAT with two forwards matches the golden bytes", "[unit]") {
    NftBatch batch = encode_apply(golden_nat(), 1000);
    CHECK(hex_dump(batch) == test::golden("nft-web1-two-forwards.hex", hex_dump(batch)));
    // The same values give the same bytes.
    CHECK(encode_apply(golden_nat(), 1000).bytes == batch.bytes);

    // Every message between begin and end asks for an acknowledgement, under its own sequence
    // number, and is waited for; the begin and end are the batch's frame.
    auto msgs = messages(batch);
    REQUIRE(msgs.size() >= 2);
    CHECK(msgs.front()->nlmsg_type == NFNL_MSG_BATCH_BEGIN);
    CHECK(msgs.front()->nlmsg_seq == 1000);
    CHECK(batch.begin_seq == 1000);
    CHECK(msgs.back()->nlmsg_type == NFNL_MSG_BATCH_END);
    CHECK(batch.next_seq == msgs.back()->nlmsg_seq + 1);
    std::set<std::uint32_t> seqs;
    for (std::size_t i = 1; i + 1 < msgs.size(); ++i) {
        CHECK((msgs[i]->nlmsg_flags & NLM_F_ACK) != 0);
        CHECK(batch.acked.count(msgs[i]->nlmsg_seq) == 1);
        seqs.insert(msgs[i]->nlmsg_seq);
    }
    CHECK(seqs.size() == msgs.size() - 2);
    CHECK(batch.acked.size() == seqs.size());
    // The table and web1's own three chains, each flushed (no handle: nothing was read), then
    // 3 masquerades and 2 DNATs per forward, each in web1's chain of its hook.
    CHECK(outline(batch) == std::vector<std::string>{
                                "newtable",
                                "newchain web1:prerouting",
                                "newchain web1:output",
                                "newchain web1:postrouting",
                                "delrule web1:prerouting",
                                "delrule web1:output",
                                "delrule web1:postrouting",
                                "newrule web1:postrouting",
                                "newrule web1:postrouting",
                                "newrule web1:postrouting",
                                "newrule web1:prerouting",
                                "newrule web1:output",
                                "newrule web1:prerouting",
                                "newrule web1:output",
                            });
}

TEST_CASE("the nft chains of two containers never share a name", "[unit]") {
    CHECK(nft_chains_of("web1") ==
          std::vector<std::string>{"web1:prerouting", "web1:output", "web1:postrouting"});
    std::set<std::string> seen;
    for (const char* owner : {"a", "a-output", "a-pre", "a:b", "prerouting", "postrouting"})
        for (const auto& c : nft_chains_of(owner))
            CHECK(seen.insert(c).second);
    for (const char* shared : {"prerouting", "output", "postrouting"})
        CHECK(seen.count(shared) == 0);
}

TEST_CASE("the nft rule messages parse back with libnftnl to the expected expressions", "[unit]") {
    NftBatch batch = encode_apply(golden_nat(), 1);
    std::vector<std::pair<std::string, std::vector<std::string>>> rules;
    for (const nlmsghdr* nlh : messages(batch))
        if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE))
            rules.push_back(parse_rule(nlh));
    REQUIRE(rules.size() == 7);
    // ip saddr 10.88.0.2 oifname != "voltbr0" masquerade
    CHECK(rules[0].first == "web1:postrouting");
    CHECK(rules[0].second == std::vector<std::string>{
                                 "payload load 4b @ network header + 12 => reg 1 ",
                                 "cmp eq reg 1 0x0200580a ",
                                 "meta load oifname => reg 1 ",
                                 "cmp neq reg 1 0x746c6f76 0x00307262 0x00000000 0x00000000 ",
                                 "masq ",
                             });
    // ip saddr 10.88.0.0/16 ip daddr 10.88.0.2 ct status dnat masquerade
    CHECK(rules[2].first == "web1:postrouting");
    CHECK(rules[2].second == std::vector<std::string>{
                                 "payload load 4b @ network header + 12 => reg 1 ",
                                 "bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ",
                                 "cmp eq reg 1 0x0000580a ",
                                 "payload load 4b @ network header + 16 => reg 1 ",
                                 "cmp eq reg 1 0x0200580a ",
                                 "ct load status => reg 1 ",
                                 "bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ",
                                 "cmp neq reg 1 0x00000000 ",
                                 "masq ",
                             });
    // fib daddr type local udp dport 5353 dnat to 10.88.0.2:53, in prerouting then output
    for (int i : {5, 6}) {
        CHECK(rules[i].first == (i == 5 ? "web1:prerouting" : "web1:output"));
        CHECK(rules[i].second == std::vector<std::string>{
                                     "fib daddr type => reg 1 ",
                                     "cmp eq reg 1 0x00000002 ",
                                     "meta load l4proto => reg 1 ",
                                     "cmp eq reg 1 0x00000011 ",
                                     "payload load 2b @ transport header + 2 => reg 1 ",
                                     "cmp eq reg 1 0x0000e914 ",
                                     "immediate reg 1 0x0200580a ",
                                     "immediate reg 2 0x00003500 ",
                                     "nat dnat ip addr_min reg 1 proto_min reg 2 ",
                                 });
    }
}

TEST_CASE("the nft batch of a remove deletes the owner's chains by name and the rules given",
          "[unit]") {
    NftBatch batch = encode_remove("web1", true, golden_legacy(), 50);
    // Each chain made where missing (so the batch holds when one is gone), flushed, deleted;
    // then the old layout's rules by handle.
    CHECK(outline(batch) == std::vector<std::string>{
                                "newchain web1:prerouting",
                                "newchain web1:output",
                                "newchain web1:postrouting",
                                "delrule web1:prerouting",
                                "delchain web1:prerouting",
                                "delrule web1:output",
                                "delchain web1:output",
                                "delrule web1:postrouting",
                                "delchain web1:postrouting",
                                "delrule postrouting",
                                "delrule prerouting",
                            });
    CHECK(batch.acked.at(60) == "deleting rule 7 of web1");
    CHECK(batch.acked.at(61) == "deleting rule 9 of web1");
    CHECK(batch.next_seq == 63);

    // Without chains only the rules given; nothing at all is an empty frame.
    CHECK(outline(encode_remove("web1", false, golden_legacy(), 1)) ==
          std::vector<std::string>{"delrule postrouting", "delrule prerouting"});
    NftBatch empty = encode_remove("web1", false, {}, 1);
    CHECK(messages(empty).size() == 2);
    CHECK(empty.acked.empty());
}

TEST_CASE("the network plan of a fixed spec and host matches the golden file", "[unit]") {
    runtime::Spec spec;
    spec.name = "web1";
    spec.network = runtime::NetworkMode::private_net;
    spec.ports = {{"tcp", 8080, 80}, {"udp", 5353, 53}};
    runtime::Paths paths;  // the defaults: /var/lib/volt, /run/volt
    runtime::NetworkFacts facts;
    facts.machine_id = "0123456789abcdef0123456789abcdef\n";
    facts.resolv_conf = "nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.org\n";
    facts.subnet = *parse_subnet("10.88.0.0/16");
    facts.gateway = facts.subnet.gateway();
    runtime::NetworkPlan plan = runtime::plan_network(spec, paths, facts, *parse_ipv4("10.88.0.2"));
    std::string text = runtime::render(plan);
    CHECK(text == test::golden("network-plan-web1.txt", text));

    // Typed, not strings: what build() hands to netlink.
    CHECK(plan.host_mac == derive_mac("0123456789abcdef0123456789abcdef", "host", "web1"));
    CHECK(plan.nat.ports.size() == 2);
    CHECK(plan.nat.ports[1].protocol == IPPROTO_UDP);
    CHECK(plan.nat.address == plan.address);
    // The same inputs, the same plan: nothing of the host is read.
    CHECK(runtime::render(runtime::plan_network(spec, paths, facts, plan.address)) == text);

    // A bridge of the user's: never ours to make, and no port forward, no route_localnet.
    spec.network = runtime::NetworkMode::bridge;
    spec.bridge = "br-lan";
    spec.ports.clear();
    plan = runtime::plan_network(spec, paths, facts, *parse_ipv4("10.88.0.3"));
    CHECK_FALSE(plan.bridge_ours);
    CHECK(plan.bridge == "br-lan");
    CHECK(plan.host_sysctls.size() == 1);
    CHECK(plan.nat.ports.empty());
}
