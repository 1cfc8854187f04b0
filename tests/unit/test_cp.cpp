// cp's pure parts: what an operand names, and ids through a user namespace's map.
#include <catch2/catch.hpp>

#include "runtime/plan/cp.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

CpOperand operand(std::string_view arg) {
    auto op = parse_cp_operand(arg);
    INFO(arg << ": " << (op ? "" : op.error().describe()));
    REQUIRE(op.ok());
    return *op;
}

std::string refusal(std::string_view arg) {
    auto op = parse_cp_operand(arg);
    REQUIRE_FALSE(op.ok());
    CHECK(op.error().kind() == ErrorKind::usage);
    return op.error().describe();
}

}  // namespace

TEST_CASE("cp operands: NAME:PATH is a container's, anything else a host path", "[unit]") {
    CHECK(operand("web:/etc/hostname").container == "web");
    CHECK(operand("web:/etc/hostname").path == "/etc/hostname");
    // A relative path in a container is taken from its root.
    CHECK(operand("web:etc/x").path == "/etc/x");
    // Only the first ':' splits: the path may hold more.
    CHECK(operand("web:/a:b").path == "/a:b");
    CHECK(operand("web:/a:b").container == "web");
    // A ':' after a '/' belongs to a host path, as does one in a path starting with '.' (no
    // container name does) or an absolute one.
    for (const char* host :
         {"./a:b", "/tmp/a:b", "dir/file:1", ".hidden:x", "../x:y", "plain", "a/b", "/", "."}) {
        INFO(host);
        CHECK_FALSE(operand(host).in_container());
        CHECK(operand(host).path == host);
    }
    CHECK(operand("a.b-c_d:/x").container == "a.b-c_d");
}

TEST_CASE("cp operands that name nothing are refused in one line naming them", "[unit]") {
    CHECK(refusal("") == "cp: an empty path");
    CHECK(refusal(":x").find("no container name before ':'") != std::string::npos);
    CHECK(refusal(":x").find("./:x") != std::string::npos);
    CHECK(refusal("web:") == "cp: 'web:': no path after ':' (NAME:/PATH)");
    auto bad = refusal("a b:/x");
    CHECK(bad.find("'a b:/x'") != std::string::npos);
    CHECK(bad.find("invalid container name") != std::string::npos);
    // Control characters are shown escaped, never raw.
    CHECK(refusal("a\nb:/x").find('\n') == std::string::npos);
    CHECK(refusal(std::string(65, 'x') + ":/x").find("longer than 64") != std::string::npos);
}

TEST_CASE("cp needs exactly one side in a container", "[unit]") {
    CHECK(check_cp_operands(operand("web:/x"), operand("out")).ok());
    CHECK(check_cp_operands(operand("in"), operand("web:/x")).ok());
    auto both = check_cp_operands(operand("a:/x"), operand("b:/y"));
    REQUIRE_FALSE(both.ok());
    CHECK(both.error().kind() == ErrorKind::usage);
    auto neither = check_cp_operands(operand("x"), operand("y"));
    REQUIRE_FALSE(neither.ok());
    CHECK(neither.error().kind() == ErrorKind::usage);
}

TEST_CASE("cp path pieces: last component and parent", "[unit]") {
    CHECK(last_component("/a/b") == "b");
    CHECK(last_component("/a/b/") == "b");
    CHECK(last_component("b") == "b");
    CHECK(last_component("/") == "");
    CHECK(last_component("//") == "");
    CHECK(last_component("/a/.") == ".");
    CHECK(parent_of("/a/b") == "/a");
    CHECK(parent_of("/a/b/") == "/a");
    CHECK(parent_of("/a") == "/");
    CHECK(parent_of("a") == ".");
    CHECK(parent_of("a/b") == "a");
    CHECK(parent_of("/a//b") == "/a");
}

TEST_CASE("id maps: ids cross a user namespace both ways, and unmapped ids are none", "[unit]") {
    auto map = parse_id_map("         0   20250624      65536\n");
    REQUIRE(map.ok());
    CHECK(map->to_host(0) == 20250624u);
    CHECK(map->to_host(1000) == 20251624u);
    CHECK(map->to_host(65535) == 20250624u + 65535);
    CHECK_FALSE(map->to_host(65536).has_value());
    CHECK(map->to_container(20251624) == 1000u);
    CHECK_FALSE(map->to_container(0).has_value());
    CHECK_FALSE(map->to_container(20250624u + 65536).has_value());

    auto two = parse_id_map("0 1000 1\n1 100000 10\n");
    REQUIRE(two.ok());
    CHECK(two->to_host(0) == 1000u);
    CHECK(two->to_host(5) == 100004u);
    CHECK(two->to_container(100009) == 10u);

    CHECK(IdMap::identity().to_host(123456) == 123456u);
    CHECK(IdMap::identity().to_container(0) == 0u);
    CHECK(parse_id_map("0 0 4294967295\n")->to_host(7) == 7u);
    CHECK(IdMap::shifted(65536, 65536).to_container(65536 + 33) == 33u);

    for (const char* bad : {"", "\n", "0 0", "0 0 0", "x 0 1", "0 0 1 1", "4294967295 0 2",
                            "0 4294967295 2", "-1 0 1"}) {
        INFO(bad);
        CHECK_FALSE(parse_id_map(bad).ok());
    }
}
