// `logs` on a host without journald (our CI machines): the console log that boot --detach keeps,
// read with -n and -f, and shown without the guest's terminal control sequences.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "base/fs.hpp"
#include "support.hpp"

using namespace volt;

TEST_CASE("logs without journald: the console log, its last lines, following, no escapes",
          "[e2e]") {
    test::require_container_host();
    test::skip_unless(!fs::exists("/run/systemd/journal/socket"),
                      "a host without journald (journald runs here: logs reads the journal, "
                      "label systemd-host)");
    test::Sandbox sb;
    std::string name = sb.unique_name("logs");
    // Landlock none: the exec'd writer below needs the container's /dev/console.
    auto r = sb.volt({"create", name, "--image", test::busybox_rootfs(), "--network", "none",
                      "--landlock", "none"});
    REQUIRE(r.code == 0);
    // Before any boot there is no console log: one line saying where the logs would be.
    r = sb.volt({"logs", name});
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Catch::StartsWith("volt-run: no journal on this host") &&
                          Catch::Contains("boot --detach") && !Catch::Contains("No such file"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

    REQUIRE(sb.volt({"boot", "--detach", "--timeout", "60", name}).code == 0);
    auto say = [&](const std::string& text) {
        auto w = sb.volt({"exec", name, "--", "sh", "-c", "printf '" + text + "' > /dev/console"});
        REQUIRE(w.code == 0);
    };
    say("first-line\\n");
    // A window title, a colour and a terminal reset from the guest.
    say("\\033]0;pwned\\007esc\\033[31mred\\033c\\n");
    say("last-line\\n");
    // The lines reach the log through nspawn's pty: wait for the last one.
    std::string all;
    for (int i = 0; i < 100; ++i) {
        r = sb.volt({"logs", name});
        all = r.out;
        if (all.find("last-line") != std::string::npos)
            break;
        ::usleep(50 * 1000);
    }
    INFO(all);
    CHECK(r.code == 0);
    CHECK_THAT(all, Catch::Contains("first-line\n") && Catch::Contains("escred\n") &&
                        Catch::Contains("last-line\n"));
    CHECK(all.find('\x1b') == std::string::npos);
    CHECK(all.find("pwned") == std::string::npos);
    CHECK(all.find('\r') == std::string::npos);

    r = sb.volt({"logs", "-n", "2", name});
    CHECK(r.code == 0);
    CHECK(r.out == "escred\nlast-line\n");
    r = sb.volt({"logs", "--json", "-n", "1", name});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains(R"("MESSAGE":"last-line")") &&
                          Catch::Contains(R"("_TRANSPORT":"console")"));
    // The console has no times.
    r = sb.volt({"logs", "--since", "today", name});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("--since") && Catch::Contains("no times"));

    // -f: the last lines, then what comes; SIGINT ends it with 0.
    test::Background follow(sb, {"logs", "-f", "-n", "1", name});
    // Only once it has printed the last line is it following: a line said before that is
    // already the last one.
    std::string seen;
    for (int i = 0; i < 200 && seen.find("last-line\n") == std::string::npos; ++i) {
        ::usleep(25 * 1000);
        seen = follow.output();
    }
    REQUIRE(seen == "last-line\n");
    say("followed-line\\n");
    for (int i = 0; i < 200 && seen.find("followed-line") == std::string::npos; ++i) {
        ::usleep(25 * 1000);
        seen = follow.output();
    }
    CHECK(seen == "last-line\nfollowed-line\n");
    REQUIRE(::kill(follow.pid(), SIGINT) == 0);
    CHECK(follow.wait(5000) == 0);

    REQUIRE(sb.volt({"stop", name}).code == 0);
    // The console log goes with the run (stop collects the run's directory).
    r = sb.volt({"logs", name});
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Catch::Contains("until it stops"));
    REQUIRE(sb.volt({"delete", name}).code == 0);
}
