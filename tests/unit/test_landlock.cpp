// Landlock: the pure parts (ABI tables, policy parsing, what an ABI enforces of a policy).
#include <catch2/catch.hpp>

#include "landlock/landlock.hpp"

using namespace volt;
using namespace volt::landlock;

TEST_CASE("rights each Landlock ABI handles", "[unit]") {
    CHECK(fs_rights_of(0) == 0);
    CHECK(net_rights_of(0) == 0);
    CHECK(scopes_of(0) == 0);
    CHECK(fs_rights_of(1) == 0x1fff);
    CHECK(fs_rights_of(2) == 0x3fff);
    CHECK(fs_rights_of(3) == 0x7fff);
    CHECK(fs_rights_of(4) == 0x7fff);
    CHECK(net_rights_of(3) == 0);
    CHECK(net_rights_of(4) == (net_right::bind_tcp | net_right::connect_tcp));
    CHECK(fs_rights_of(5) == 0xffff);
    CHECK(scopes_of(5) == 0);
    CHECK(scopes_of(6) == (scope::signal | scope::abstract_unix_socket));
    CHECK(fs_rights_of(7) == fs_rights_of(6));
    CHECK(net_rights_of(7) == net_rights_of(6));
    for (int abi = 1; abi <= kKnownAbi; ++abi)
        CHECK_FALSE(added_by(abi).empty());
    CHECK(fs_names(fs_right::read_file | fs_right::read_dir) == "read-file,read-dir");
    CHECK(fs_names(1ULL << 40) == "0x10000000000");
}

TEST_CASE("the built-in policies parse and keep the old backend's intent", "[unit]") {
    auto server = parse_policy(builtin_policy_text("server"), "server");
    REQUIRE(server.ok());
    auto rights_of = [](const Policy& p, const std::string& path) {
        for (const auto& r : p.paths)
            if (r.path == path)
                return r.rights;
        return std::uint64_t{0};
    };
    CHECK(rights_of(*server, "/usr") ==
          (fs_right::read_file | fs_right::read_dir | fs_right::execute));
    CHECK(rights_of(*server, "/etc") == (fs_right::read_file | fs_right::read_dir));
    CHECK((rights_of(*server, "/tmp") & fs_right::make_reg) != 0);
    CHECK(rights_of(*server, "/home") == 0);
    CHECK(server->scopes == (scope::signal | scope::abstract_unix_socket));
    auto desktop = parse_policy(builtin_policy_text("desktop"), "desktop");
    REQUIRE(desktop.ok());
    CHECK((rights_of(*desktop, "/home") & fs_right::execute) != 0);
    CHECK((rights_of(*desktop, "/etc") & fs_right::write_file) != 0);
    CHECK(rights_of(*desktop, "/opt") ==
          (fs_right::read_file | fs_right::read_dir | fs_right::execute));
    CHECK(builtin_policy_text("nonsense").empty());
}

TEST_CASE("policy syntax: names, numbers, ports, scopes", "[unit]") {
    auto p = parse_policy(
        "# comment\n\n fs /srv//data/ read,0x2  # trailing comment\n"
        "net bind-tcp 80,443\nnet connect-tcp none\nscope signal\n",
        "t.policy");
    REQUIRE(p.ok());
    REQUIRE(p->paths.size() == 1);
    CHECK(p->paths[0].path == "/srv/data");
    CHECK(p->paths[0].rights == (fs_right::read_file | fs_right::read_dir | fs_right::write_file));
    CHECK(p->handles_bind);
    CHECK(p->bind_ports == std::vector<std::uint16_t>{80, 443});
    CHECK(p->handles_connect);
    CHECK(p->connect_ports.empty());
    CHECK(p->scopes == scope::signal);
}

TEST_CASE("bad policies: one error naming file, line and field", "[unit]") {
    struct Case {
        const char* text;
        const char* message;
    };
    for (const auto& c : std::vector<Case>{
             {"fs /etc wrte\n", "p:1: unknown right 'wrte'"},
             {"\nfs etc read\n", "p:2: invalid path 'etc': must be absolute, without '.' or '..'"},
             {"fs /../etc read\n", "p:1: invalid path '/../etc'"},
             {"fs /a/./b read\n", "p:1: invalid path '/a/./b'"},
             {"fs /etc read\nfs /etc/ write\n", "p:2: duplicate rule for /etc"},
             {"net bind-tcp 70000\n", "p:1: invalid port '70000' (1-65535)"},
             {"net bind-tcp 0\n", "p:1: invalid port '0'"},
             {"net bind-tcp 80x\n", "p:1: invalid port '80x'"},
             {"net bind-tcp 80\nnet bind-tcp 81\n", "p:2: duplicate rule for bind-tcp"},
             {"net listen 80\n", "p:1: unknown network rule 'listen'"},
             {"scope ptrace\n", "p:1: unknown scope 'ptrace'"},
             {"allow /etc read\n", "p:1: unknown rule 'allow'"},
             {"fs /etc\n", "p:1: expected 'fs PATH RIGHTS'"},
         }) {
        auto p = parse_policy(c.text, "p");
        INFO(c.text);
        REQUIRE_FALSE(p.ok());
        CHECK(p.error().kind() == ErrorKind::usage);
        CHECK(p.error().describe().find(c.message) != std::string::npos);
        CHECK(p.error().describe().find('\n') == std::string::npos);
    }
}

TEST_CASE("what an ABI enforces of a policy, for exec and for boot", "[unit]") {
    auto policy = parse_policy(
        "fs /usr read,execute\nfs /dev read,write,ioctl-dev\nnet bind-tcp 8080\nscope signal\n",
        "p");
    REQUIRE(policy.ok());

    Plan full = plan(*policy, Part::exec, 7);
    CHECK(full.level() == "full");
    CHECK(full.describe() == "full");
    CHECK(full.handled_fs == 0xffff);
    CHECK(full.handled_net == net_right::bind_tcp);
    CHECK(full.bind_ports == std::vector<std::uint16_t>{8080});
    CHECK(full.scopes == scope::signal);

    Plan old = plan(*policy, Part::exec, 3);
    CHECK(old.level() == "partial");
    CHECK(old.handled_fs == 0x7fff);
    CHECK(old.missing_fs == fs_right::ioctl_dev);
    CHECK(old.handled_net == 0);
    CHECK(old.missing_net == net_right::bind_tcp);
    CHECK(old.missing_scopes == scope::signal);
    CHECK(old.paths[1].rights ==
          (fs_right::read_file | fs_right::read_dir | fs_right::write_file | fs_right::truncate));
    CHECK(old.describe() == "partial (ABI 3 cannot enforce: ioctl-dev, TCP bind, scope signal)");

    CHECK(plan(*policy, Part::exec, 0).level() == "none");
    CHECK_FALSE(plan(*policy, Part::exec, 0).complete());

    // At boot, never file-system rights: they would forbid nspawn's mounts.
    Plan boot = plan(*policy, Part::boot, 7);
    CHECK(boot.handled_fs == 0);
    CHECK(boot.paths.empty());
    CHECK(boot.handled_net == net_right::bind_tcp);
    CHECK(boot.scopes == scope::signal);
    CHECK(boot.level() == "full");
    auto fs_only = parse_policy("fs /usr read\n", "p");
    CHECK(plan(*fs_only, Part::boot, 7).level() == "none");
}
