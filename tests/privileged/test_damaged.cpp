// A data root with damaged files: one container's bad spec, state or lease never hides the other
// containers or breaks their commands, is listed as broken, and delete --force removes whatever
// of it exists so that its name can be created again.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

namespace {

std::size_t lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// Replaces path (a file or nothing) with what make() puts there.
void replace(const std::string& path, const std::function<void()>& make) {
    REQUIRE(fs::remove_tree(path));
    make();
}

void write(const std::string& path, const std::string& text) {
    REQUIRE(fs::mkdir_p(fs::dirname(path), 0700));
    REQUIRE(fs::write_file_atomic(path, text, 0600));
}

}  // namespace

TEST_CASE("a damaged container is listed as broken, hides no other, and delete --force removes it",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();
    const std::string good = sb.unique_name("good");
    REQUIRE(sb.volt({"create", good, "--image", img, "--network", "none"}).code == 0);

    struct Damage {
        const char* what;
        std::function<void(const std::string& name)> apply;
    };
    const Damage damages[] = {
        {"a truncated spec",
         [&](const std::string& n) {
             auto text = fs::read_file(p.spec_file(n));
             REQUIRE(text);
             write(p.spec_file(n), text->substr(0, text->size() / 2));
         }},
        {"a spec of version 99",
         [&](const std::string& n) {
             auto text = fs::read_file(p.spec_file(n));
             REQUIRE(text);
             auto j = nlohmann::json::parse(*text);
             j["version"] = 99;
             write(p.spec_file(n), j.dump());
         }},
        {"a FIFO for a spec",
         [&](const std::string& n) {
             replace(p.spec_file(n), [&] { REQUIRE(::mkfifo(p.spec_file(n).c_str(), 0600) == 0); });
         }},
        {"a symlink for a spec",
         [&](const std::string& n) {
             const std::string other = p.spec_file(good);
             replace(p.spec_file(n),
                     [&] { REQUIRE(::symlink(other.c_str(), p.spec_file(n).c_str()) == 0); });
         }},
        {"a spec of 2 MiB",
         [&](const std::string& n) { write(p.spec_file(n), std::string(2 << 20, ' ') + "{}"); }},
        {"another container's spec",
         [&](const std::string& n) {
             auto text = fs::read_file(p.spec_file(good));
             REQUIRE(text);
             write(p.spec_file(n), *text);
         }},
        {"no spec (a create killed before it wrote one)",
         [&](const std::string& n) { REQUIRE(fs::remove_tree(p.spec_file(n))); }},
        {"a truncated state",
         [&](const std::string& n) { write(p.state_file(n), "{\"nspawn_pid\": 1, \"cgro"); }},
        {"a state of another shape",
         [&](const std::string& n) { write(p.state_file(n), "[1, 2, 3]"); }},
        {"a FIFO for a state",
         [&](const std::string& n) {
             REQUIRE(fs::mkdir_p(p.state_dir(n), 0700));
             REQUIRE(::mkfifo(p.state_file(n).c_str(), 0600) == 0);
         }},
    };

    for (const auto& damage : damages) {
        DYNAMIC_SECTION(damage.what) {
            const std::string name = sb.unique_name("bad");
            auto created = sb.volt({"create", name, "--image", img, "--network", "none"});
            INFO(created.err);
            REQUIRE(created.code == 0);
            damage.apply(name);

            // list: every container, the damaged one as broken with its reason, on one line.
            auto listed = sb.volt({"list"});
            INFO(listed.out << listed.err);
            CHECK(listed.code == 0);
            CHECK(listed.out.find(good + " ") != std::string::npos);
            auto at = listed.out.find(name + " ");
            REQUIRE(at != std::string::npos);
            CHECK(listed.out.substr(at, listed.out.find('\n', at) - at).find("broken") !=
                  std::string::npos);
            auto json_listed = sb.volt({"list", "--json"});
            REQUIRE(json_listed.code == 0);
            auto all = nlohmann::json::parse(json_listed.out);
            REQUIRE(all.size() == 2);
            for (const auto& c : all) {
                if (c["name"] == name) {
                    CHECK(c["state"] == "broken");
                    CHECK_FALSE(c["reason"].get<std::string>().empty());
                } else {
                    CHECK(c["state"] == "stopped");
                }
            }
            // Commands on the other container are not touched by it.
            CHECK(sb.volt({"inspect", good}).code == 0);

            // delete without --force refuses in one line and says what would remove it.
            auto refused = sb.volt({"delete", name});
            CHECK(refused.code != 0);
            CHECK(lines(refused.err) == 1);
            // delete --force removes whatever of it exists, and the name is free again.
            auto removed = sb.volt({"delete", "--force", name});
            INFO(removed.err);
            CHECK(removed.code == 0);
            for (const auto& path : {p.config_dir(name), p.rootfs(name), p.state_dir(name),
                                     p.unit_file(name), p.nspawn_file(name)}) {
                struct stat st;
                CHECK(::lstat(path.c_str(), &st) != 0);
            }
            CHECK(sb.volt({"create", name, "--image", img, "--network", "none"}).code == 0);
            CHECK(sb.volt({"delete", name}).code == 0);
            CHECK(sb.volt({"inspect", good}).code == 0);
        }
    }
    // A name of which nothing exists is still "no such container", with or without --force.
    auto none = sb.volt({"delete", "--force", sb.unique_name("none")});
    CHECK(none.code == 2);
    CHECK(none.err.find("no such container") != std::string::npos);
}

TEST_CASE("a damaged lease line is skipped: delete and the other leases go on",
          "[privileged][rootless]") {
    test::Sandbox sb;
    test::TempDir src;
    const std::string img = test::tiny_image(src);
    const runtime::Paths p = sb.paths();
    const std::string name = sb.unique_name("lease");
    REQUIRE(sb.volt({"create", name, "--image", img, "--network", "none"}).code == 0);
    write(p.leases("voltbr0"),
          "# volt-run leases, subnet 10.88.0.0/16\n10.88.0.2 other\n"
          "this is no lease\n10.88.0.3 " +
              name + "\n");
    auto removed = sb.volt({"delete", name});
    INFO(removed.err);
    CHECK(removed.code == 0);
    CHECK(removed.err.find("malformed lease 'this is no lease', skipped") != std::string::npos);
    CHECK_FALSE(fs::exists(p.config_dir(name)));
    auto leases = fs::read_file(p.leases("voltbr0"));
    REQUIRE(leases);
    CHECK(leases->find("10.88.0.2 other") != std::string::npos);
    CHECK(leases->find(name) == std::string::npos);
}
