#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "runtime/cli/cli.hpp"
#include "runtime/cli/verbs.hpp"
#include "runtime/cli/verbs/shared.hpp"
#include "runtime/verbs/check.hpp"
#include "runtime/verbs/image.hpp"

using namespace volt;
using namespace volt::cli;

namespace {

std::variant<Invocation, Output> parse_args(std::vector<const char*> args) {
    args.insert(args.begin(), "volt-run");
    return parse(static_cast<int>(args.size()), args.data(), runtime::Paths{});
}

template <class T>
T command_of(const std::variant<Invocation, Output>& r) {
    REQUIRE(std::holds_alternative<Invocation>(r));
    const auto& cmd = std::get<Invocation>(r).command;
    REQUIRE(std::holds_alternative<T>(cmd));
    return std::get<T>(cmd);
}

Output output_of(const std::variant<Invocation, Output>& r) {
    REQUIRE(std::holds_alternative<Output>(r));
    return std::get<Output>(r);
}

}  // namespace

TEST_CASE("exec takes everything after -- verbatim", "[unit]") {
    auto e =
        command_of<ExecCmd>(parse_args({"exec", "-e", "A=1", "web", "--", "ls", "-l", "--", "x"}));
    CHECK(e.name == "web");
    CHECK(e.options.env == std::vector<std::string>{"A=1"});
    CHECK(e.options.argv == std::vector<std::string>{"ls", "-l", "--", "x"});
    e = command_of<ExecCmd>(parse_args({"exec", "web", "echo", "-n", "hi"}));
    CHECK(e.options.argv == std::vector<std::string>{"echo", "-n", "hi"});
    // exec's own options may follow NAME, but never the command's first word.
    e = command_of<ExecCmd>(parse_args({"exec", "web", "sh", "-i", "-t"}));
    CHECK(e.options.argv == std::vector<std::string>{"sh", "-i", "-t"});
    CHECK_FALSE(e.options.interactive);
    CHECK_FALSE(e.options.tty);
    e = command_of<ExecCmd>(parse_args({"exec", "web", "-i", "--", "sh"}));
    CHECK(e.options.interactive);
    CHECK(e.options.argv == std::vector<std::string>{"sh"});
}

TEST_CASE("exec refuses an option it does not know instead of running it as the command",
          "[unit]") {
    // Before NAME, after NAME, and the ones users try first: each a usage error naming it.
    for (auto args : std::vector<std::vector<const char*>>{{"exec", "--bogus", "web", "true"},
                                                           {"exec", "web", "--bogus"},
                                                           {"exec", "-x", "web", "sh"},
                                                           {"exec", "--users", "x", "web", "id"}}) {
        auto out = output_of(parse_args(args));
        INFO(out.text);
        CHECK(out.exit_code == kExitUsage);
        CHECK(out.text.find("unknown option") != std::string::npos);
        CHECK(out.text.find('\n') == out.text.size() - 1);
    }
    CHECK(output_of(parse_args({"exec", "-x", "web", "sh"})).text.find("'-x'") !=
          std::string::npos);
    // After "--" the command is verbatim, whatever it looks like.
    auto e = command_of<ExecCmd>(parse_args({"exec", "web", "--", "-weird", "x"}));
    CHECK(e.options.argv == std::vector<std::string>{"-weird", "x"});
}

TEST_CASE("exec -it, --user and --detach, and no command runs the user shell", "[unit]") {
    auto e = command_of<ExecCmd>(parse_args({"exec", "-it", "-u", "www:adm", "web"}));
    CHECK(e.options.tty);
    CHECK(e.options.interactive);
    CHECK(e.options.user == "www:adm");
    CHECK(e.options.argv.empty());
    e = command_of<ExecCmd>(parse_args({"exec", "--detach", "web", "sleep", "9"}));
    CHECK(e.options.detach);
    CHECK_FALSE(e.options.tty);
    CHECK(e.options.argv == std::vector<std::string>{"sleep", "9"});
    // --user takes a value: the next word is never the container's name.
    auto missing = output_of(parse_args({"exec", "--user"}));
    CHECK(missing.exit_code == kExitUsage);
}

TEST_CASE("exec options: Landlock mode and verbosity", "[unit]") {
    auto r = parse_args({"exec", "-v", "--landlock-mode", "require", "web", "--", "id"});
    REQUIRE(std::holds_alternative<Invocation>(r));
    CHECK(std::get<Invocation>(r).verbosity == 1);
    auto e = command_of<ExecCmd>(r);
    REQUIRE(e.options.landlock_mode.has_value());
    CHECK(*e.options.landlock_mode == runtime::LandlockMode::require);
    CHECK_FALSE(command_of<ExecCmd>(parse_args({"exec", "web", "id"})).options.landlock_mode);
    auto bad = output_of(parse_args({"exec", "--landlock-mode", "maybe", "web", "--", "id"}));
    CHECK(bad.exit_code == kExitUsage);
    CHECK(bad.text.find("'maybe'") != std::string::npos);
    command_of<CheckCmd>(parse_args({"check", "--json"}));
}

TEST_CASE("create collects every option", "[unit]") {
    auto c = command_of<CreateCmd>(parse_args({"create",
                                               "web",
                                               "--image",
                                               "debian",
                                               "--memory",
                                               "1G",
                                               "--cpus",
                                               "1.5",
                                               "--port",
                                               "8080:80",
                                               "--port",
                                               "udp:53:53",
                                               "--env",
                                               "A=1",
                                               "--volume",
                                               "/srv:/srv:ro",
                                               "--no-private-users",
                                               "--read-only",
                                               "--network",
                                               "none"}));
    CHECK(c.request.name == "web");
    CHECK(c.request.image == "debian");
    CHECK(c.request.memory == "1G");
    CHECK(c.request.cpus == "1.5");
    CHECK(c.request.ports == std::vector<std::string>{"8080:80", "udp:53:53"});
    CHECK(c.request.volumes == std::vector<std::string>{"/srv:/srv:ro"});
    CHECK_FALSE(c.request.private_users);
    CHECK(c.request.read_only);
    CHECK(c.request.network == "none");
    auto d = command_of<CreateCmd>(parse_args({"create", "web", "--image", "x"}));
    CHECK(d.request.private_users);
    CHECK(d.request.rootfs == "copy");
    auto o =
        command_of<CreateCmd>(parse_args({"create", "web", "--image", "x", "--rootfs", "overlay"}));
    CHECK(o.request.rootfs == "overlay");
}

TEST_CASE("global paths: flags override what the environment gave", "[unit]") {
    runtime::Paths env_paths;
    env_paths.root = "/from/env";
    env_paths.run_dir = "/run/env";
    std::vector<const char*> args = {"volt-run", "--root", "/from/flag", "list"};
    auto r = parse(static_cast<int>(args.size()), args.data(), env_paths);
    REQUIRE(std::holds_alternative<Invocation>(r));
    CHECK(std::get<Invocation>(r).paths.root == "/from/flag");
    CHECK(std::get<Invocation>(r).paths.run_dir == "/run/env");
}

TEST_CASE(
    "an option given an empty value is refused naming it, never read as not given "
    "(issue 15)",
    "[unit]") {
    const std::vector<std::vector<const char*>> lines = {
        {"create", "web", "--image", "/i", "--memory", ""},
        {"create", "web", "--image", "/i", "--cpus", ""},
        {"create", "web", "--image", "/i", "--pids-max", ""},
        {"create", "web", "--image", "/i", "--kernel", ""},
        {"create", "web", "--image", "/i", "--port", ""},
        {"update", "web", "--memory-high", ""},
        {"update", "web", "--io-weight", ""},
        {"logs", "web", "--since", ""},
        {"exec", "--workdir", "", "web", "--", "true"},
        {"--root", "", "list"},
        {"--subnet", "", "list"},
    };
    for (const auto& line : lines) {
        auto out = output_of(parse_args(line));
        INFO(out.text);
        CHECK(out.exit_code == kExitUsage);
        CHECK(std::count(out.text.begin(), out.text.end(), '\n') == 1);
        CHECK(out.text.find(": invalid value '': an empty value is not allowed") !=
              std::string::npos);
    }
    CHECK(output_of(parse_args({"create", "web", "--image", "/i", "--memory", ""}))
              .text.starts_with("volt-run: --memory: "));
    CHECK(output_of(parse_args({"--root", "", "list"})).text.starts_with("volt-run: --root: "));
    // A value given is still taken as it is.
    CHECK(command_of<LogsCmd>(parse_args({"logs", "web", "--since", "today"})).since == "today");
}

TEST_CASE("a usage error is one line whatever bytes the bad value holds", "[unit]") {
    for (const char* bad : {"a\nb", "web\x1b[2J", "caf\xff", "x\ry"}) {
        auto out = output_of(parse_args({"stop", "web", "--time", bad}));
        CHECK(out.exit_code == kExitUsage);
        CHECK(std::count(out.text.begin(), out.text.end(), '\n') == 1);
        CHECK(out.text.back() == '\n');
        CHECK(out.text.find_first_of("\r\x1b\xff") == std::string::npos);
        CHECK(out.text.find("\\") != std::string::npos);  // shown escaped
    }
}

TEST_CASE("VOLT_LANDLOCK_MAX_ABI is a number or a usage error naming it", "[unit]") {
    std::vector<const char*> args = {"volt-run", "list"};
    for (const char* bad : {"x", "-1", "3x", "1001", "99999999999999999999"}) {
        runtime::Paths env_paths;
        env_paths.landlock_max_abi = bad;
        auto r = parse(static_cast<int>(args.size()), args.data(), env_paths);
        REQUIRE(std::holds_alternative<Output>(r));
        CHECK(std::get<Output>(r).exit_code == kExitUsage);
        CHECK(std::get<Output>(r).text == std::string("volt-run: VOLT_LANDLOCK_MAX_ABI: invalid "
                                                      "value '") +
                                              bad + "': must be a Landlock ABI number (0-1000)\n");
    }
    runtime::Paths env_paths;
    env_paths.landlock_max_abi = "3";
    auto r = parse(static_cast<int>(args.size()), args.data(), env_paths);
    REQUIRE(std::holds_alternative<Invocation>(r));
    CHECK(std::get<Invocation>(r).paths.landlock_max_abi == "3");
}

TEST_CASE("help, version and usage errors come back as output with exit codes", "[unit]") {
    auto help = output_of(parse_args({"--help"}));
    CHECK(help.exit_code == 0);
    CHECK(help.text.find("Exit codes") != std::string::npos);
    for (const char* sub : {"create", "boot", "exec", "stop", "delete", "list", "inspect"}) {
        auto h = output_of(parse_args({sub, "--help"}));
        CHECK(h.exit_code == 0);
        CHECK(h.text.find(std::string("Usage: ") + sub) != std::string::npos);
    }
    CHECK(output_of(parse_args({"--version"})).text ==
          std::string("volt-run ") + VOLT_VERSION + "\n");
    auto bad = output_of(parse_args({"stop"}));
    CHECK(bad.exit_code == kExitUsage);
    CHECK(bad.to_stderr);
    CHECK(std::count(bad.text.begin(), bad.text.end(), '\n') == 1);
    CHECK(output_of(parse_args({})).exit_code == kExitUsage);
    CHECK(output_of(parse_args({"stop", "web", "--time", "-1"})).exit_code == kExitUsage);
    auto unknown = output_of(parse_args({"--root", "/r", "frobnicate", "web"}));
    CHECK(unknown.exit_code == kExitUsage);
    CHECK(unknown.text == "volt-run: unknown command 'frobnicate' (see volt-run --help)\n");
}

TEST_CASE("the subcommand is found past global options and their values", "[unit]") {
    // A global option's value that happens to be a subcommand's name is still the value.
    auto r = parse_args({"--root", "/srv/volt", "-v", "list", "--json"});
    REQUIRE(std::holds_alternative<Invocation>(r));
    CHECK(std::get<Invocation>(r).paths.root == "/srv/volt");
    CHECK(command_of<ListCmd>(r).json);
    // "exec" as --root's value: the path is refused (it is relative), but as --root's, not as a
    // subcommand that "list" would then be an extra argument of.
    CHECK(output_of(parse_args({"--root", "exec", "-v", "list", "--json"})).text ==
          "volt-run: --root: invalid value 'exec': the path must be absolute\n");
    auto e = command_of<ExecCmd>(parse_args({"--run-dir=/x", "exec", "web", "--", "id"}));
    CHECK(e.options.argv == std::vector<std::string>{"id"});
    CHECK(command_of<DeleteCmd>(parse_args({"rm", "-f", "web"})).force);
    auto l = command_of<LogsCmd>(parse_args({"logs", "-f", "-n", "5", "--since", "-1h", "web"}));
    CHECK((l.follow && l.lines == 5 && l.since == "-1h" && l.name == "web"));
    CHECK(command_of<RestartCmd>(parse_args({"restart", "--no-block", "web"})).no_block);
    CHECK_FALSE(command_of<StartCmd>(parse_args({"start", "web"})).no_block);
    CHECK(command_of<ResumeCmd>(parse_args({"resume", "web"})).name == "web");
    CHECK(command_of<StopCmd>(parse_args({"stop", "--no-block", "web"})).no_block);

    auto cp = command_of<CpCmd>(parse_args({"cp", "web:/etc/x", "./a:b"}));
    CHECK(cp.src == "web:/etc/x");
    CHECK(cp.dst == "./a:b");
    CHECK(output_of(parse_args({"cp", "web:/x"})).exit_code == kExitUsage);  // DST missing

    // Help without a subcommand lists every one; a typo is named.
    auto help = output_of(parse_args({"--help"}));
    for (const char* sub :
         {"create", "boot", "exec", "cp", "stop", "delete", "list", "inspect", "check", "update",
          "stats", "pause", "resume", "start", "restart", "status", "logs"})
        CHECK(help.text.find(std::string("\n  ") + sub) != std::string::npos);
    auto typo = output_of(parse_args({"--root", "/r", "exce", "web"}));
    CHECK(typo.exit_code == kExitUsage);
    CHECK(typo.text == "volt-run: unknown command 'exce' (see volt-run --help)\n");
    // A subcommand's help is its own.
    CHECK(output_of(parse_args({"logs", "--help"})).text.find("--since") != std::string::npos);
}

TEST_CASE("every verb in the table parses to its own alternative and its help shows its summary",
          "[unit]") {
    // The fewest words after each verb's name that make a valid command line. A verb added to
    // the table must be added here too, so that this case checks it.
    const std::map<std::string_view, std::vector<const char*>> words = {
        {"create", {"web", "--image", "x"}},
        {"boot", {"web"}},
        {"exec", {"web", "id"}},
        {"cp", {"web:/etc/hostname", "out"}},
        {"stop", {"web"}},
        {"delete", {"web"}},
        {"list", {}},
        {"inspect", {"web"}},
        {"check", {}},
        {"update", {"web"}},
        {"stats", {"web"}},
        {"pause", {"web"}},
        {"resume", {"web"}},
        {"start", {"web"}},
        {"restart", {"web"}},
        {"status", {"web"}},
        {"logs", {"web"}},
        {"image", {"list"}},
        {"bench", {"--image", "x"}},
    };
    auto table = verb_table();
    CHECK(table.size() == std::variant_size_v<Command>);
    CHECK(table.size() == words.size());
    auto top_help = output_of(parse_args({"--help"})).text;
    std::set<std::string_view> names;
    for (const Verb& verb : table) {
        INFO("verb " << verb.name);
        CHECK(names.insert(verb.name).second);
        auto it = words.find(verb.name);
        REQUIRE(it != words.end());
        for (std::string_view name : {verb.name, verb.alias}) {
            if (name.empty())
                continue;
            std::string word(name);
            std::vector<const char*> args = {word.c_str()};
            args.insert(args.end(), it->second.begin(), it->second.end());
            auto r = parse_args(args);
            REQUIRE(std::holds_alternative<Invocation>(r));
            const Command& command = std::get<Invocation>(r).command;
            CHECK(command.index() == verb.alternative);
            CHECK(&verb_of(command) == &verb);

            auto help = output_of(parse_args({word.c_str(), "--help"}));
            CHECK(help.exit_code == 0);
            // an alias shows the verb's own help
            CHECK(help.text.find(std::string("Usage: ") + std::string(verb.name)) !=
                  std::string::npos);
            CHECK(help.text.find(std::string(verb.summary)) != std::string::npos);
        }
        CHECK(top_help.find(std::string(verb.summary)) != std::string::npos);
    }
    // A word that names no verb stays a usage error naming it, also when a verb follows it (all
    // verbs are built then, each bound to a command of its own).
    auto unknown = output_of(parse_args({"frobnicate"}));
    CHECK(unknown.exit_code == kExitUsage);
    CHECK(unknown.text == "volt-run: unknown command 'frobnicate' (see volt-run --help)\n");
    auto before_verb = output_of(parse_args({"frobnicate", "create", "web", "--image", "x"}));
    CHECK(before_verb.exit_code == kExitUsage);
    CHECK(before_verb.text.find("frobnicate") != std::string::npos);
}

TEST_CASE("list's uptime: the state's start time read strictly, shown in its two largest units",
          "[unit]") {
    CHECK(volt::runtime::parse_utc("1970-01-01T00:00:00Z") == 0);
    CHECK(volt::runtime::parse_utc("2026-11-22T17:00:00Z") == 1795366800);
    CHECK(volt::runtime::parse_utc("2024-02-29T00:00:00Z").has_value());
    for (const char* bad : {"", "2026-11-22T17:00:00", "2026-11-22 17:00:00Z",
                            "2026-02-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z",
                            "+026-11-22T17:00:00Z", "2026-11-22T17:00:00Z ", "x"})
        CHECK_FALSE(volt::runtime::parse_utc(bad).has_value());
    // utc_now's text reads back.
    CHECK(volt::runtime::parse_utc(volt::runtime::utc_now()).has_value());

    using volt::cli::verbs::uptime_text;
    CHECK(uptime_text(-1) == "-");
    CHECK(uptime_text(0) == "0s");
    CHECK(uptime_text(59) == "59s");
    CHECK(uptime_text(60) == "1m");
    CHECK(uptime_text(3600 + 12 * 60 + 5) == "1h12m");
    CHECK(uptime_text(2 * 86400 + 4 * 3600 + 59) == "2d4h");
}

TEST_CASE("check: which create options a host enforces follows from its facts", "[unit]") {
    volt::runtime::HostCheck h;
    h.landlock_abi = 0;
    h.cgroup2 = "/sys/fs/cgroup/unified";
    h.cgroup_layout = "hybrid";
    h.cgroup2_controllers = {"hugetlb", "pids"};
    h.nftables_error = "nftables: Operation not supported";
    auto find = [](const std::vector<volt::runtime::Enforceable>& all, const std::string& opt) {
        for (const auto& e : all)
            if (e.options.find(opt) != std::string::npos)
                return e;
        FAIL("no row for " << opt);
        return volt::runtime::Enforceable{};
    };
    auto rows = volt::runtime::enforceable_options(h);
    CHECK_FALSE(find(rows, "--memory").enforced);
    CHECK_THAT(find(rows, "--memory").how, Catch::Contains("no cgroup2 memory controller"));
    CHECK(find(rows, "--pids-max").enforced);
    CHECK_FALSE(find(rows, "--cpus").enforced);
    CHECK_FALSE(find(rows, "--landlock").enforced);
    CHECK_FALSE(find(rows, "--port").enforced);
    CHECK_THAT(find(rows, "--port").how, Catch::Contains("Operation not supported"));
    CHECK(find(rows, "--device").enforced);
    CHECK_THAT(find(rows, "--device").how, Catch::Contains("v1 devices controller"));
    CHECK_FALSE(find(rows, "--kernel").enforced);
    CHECK_FALSE(find(rows, "--start").enforced);

    h.landlock_abi = 7;
    h.cgroup2_controllers = {"cpu", "memory", "io", "cpuset", "pids"};
    h.nftables_error.clear();
    h.system_bus = true;
    rows = volt::runtime::enforceable_options(h);
    for (const char* opt : {"--memory", "--cpus", "--cpuset", "--io-weight", "--pids-max",
                            "--landlock", "--port", "--start"})
        CHECK(find(rows, opt).enforced);
    CHECK_THAT(find(rows, "--landlock").how, Catch::Contains("ABI 7"));
    CHECK(find(rows, "--rootfs overlay").enforced);
    CHECK_THAT(find(rows, "--rootfs overlay").how, Catch::Contains("id-mapped lower layers"));
    // Without id-mapped mounts an overlay works only without a user namespace; without
    // overlayfs not at all.
    h.idmap_error = "/var/lib/volt: mount_setattr: Invalid argument";
    rows = volt::runtime::enforceable_options(h);
    CHECK(find(rows, "--rootfs overlay").enforced);
    CHECK_THAT(find(rows, "--rootfs overlay").how, Catch::Contains("only with --no-private-users"));
    h.overlay_error = "fsopen(\"overlay\"): No such device";
    rows = volt::runtime::enforceable_options(h);
    CHECK_FALSE(find(rows, "--rootfs overlay").enforced);
    CHECK_THAT(find(rows, "--rootfs overlay").how, Catch::Contains("No such device"));
}

TEST_CASE("help: no default markers, the exit codes once, the user namespace flags exclusive",
          "[unit]") {
    auto top = output_of(parse_args({"--help"})).text;
    CHECK(top.find("Exit codes") != std::string::npos);
    for (const Verb& verb : verb_table()) {
        INFO("verb " << verb.name);
        std::string help = output_of(parse_args({std::string(verb.name).c_str(), "--help"})).text;
        CHECK(help.find("{false}") == std::string::npos);
        CHECK(help.find("{true}") == std::string::npos);
        CHECK(help.find("Exit codes") == std::string::npos);
    }
    CHECK(
        command_of<CreateCmd>(parse_args({"create", "web", "--image", "x"})).request.private_users);
    CHECK_FALSE(
        command_of<CreateCmd>(parse_args({"create", "web", "--image", "x", "--no-private-users"}))
            .request.private_users);
    auto both = output_of(
        parse_args({"create", "web", "--image", "x", "--private-users", "--no-private-users"}));
    CHECK(both.exit_code == kExitUsage);
    CHECK(both.text.find("--no-private-users") != std::string::npos);
}

TEST_CASE("image: import, list and rm parse to their action, with help of their own", "[unit]") {
    auto imp = command_of<ImageCmd>(parse_args({"image", "import", "/tmp/x.tar.zst", "deb"}));
    CHECK(imp.action == ImageCmd::Action::import);
    CHECK(imp.source == "/tmp/x.tar.zst");
    CHECK(imp.name == "deb");
    auto list = command_of<ImageCmd>(parse_args({"image", "ls", "--json"}));
    CHECK(list.action == ImageCmd::Action::list);
    CHECK(list.json);
    auto rm = command_of<ImageCmd>(parse_args({"image", "rm", "deb"}));
    CHECK(rm.action == ImageCmd::Action::remove);
    CHECK(rm.name == "deb");
    // A global flag before a verb whose next word is a verb's name too ("list", "rm"): -v takes
    // no value, so "image" stays the verb.
    auto verbose = parse_args({"-v", "image", "rm", "deb"});
    CHECK(command_of<ImageCmd>(verbose).action == ImageCmd::Action::remove);
    CHECK(std::get<Invocation>(verbose).verbosity == 1);
    CHECK(command_of<ListCmd>(parse_args({"-v", "list"})).json == false);

    auto help = output_of(parse_args({"image", "import", "--help"}));
    CHECK(help.exit_code == 0);
    CHECK(help.text.find("Usage: import") != std::string::npos);
    CHECK(help.text.find("Exit codes") == std::string::npos);
    for (std::vector<const char*> bad : {std::vector<const char*>{"image"},
                                         {"image", "import", "x.tar"},
                                         {"image", "rm"},
                                         {"image", "frob"}}) {
        auto out = output_of(parse_args(bad));
        CHECK(out.exit_code == kExitUsage);
    }
}

TEST_CASE("os-release: PRETTY_NAME unquoted, else NAME", "[unit]") {
    using runtime::os_release_name;
    CHECK(os_release_name("NAME=Debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n") ==
          "Debian GNU/Linux 12 (bookworm)");
    CHECK(os_release_name("NAME='Alpine Linux'\n") == "Alpine Linux");
    CHECK(os_release_name("NAME=plain\r\n") == "plain");
    CHECK(os_release_name("PRETTY_NAME=\"say \\\"hi\\\"\"") == "say \"hi\"");
    CHECK(os_release_name("ID=x\n# PRETTY_NAME=no\n").empty());
    CHECK(os_release_name("").empty());
}

TEST_CASE("bench: options, defaults and their refusals", "[unit]") {
    auto b = command_of<BenchCmd>(parse_args({"bench", "--image", "/i"}));
    CHECK(b.options.image == "/i");
    CHECK(b.options.iterations == 20);
    CHECK(b.options.network == "private");
    CHECK(b.options.stop_time == 10);
    CHECK_FALSE(b.json);
    CHECK(b.plot.empty());
    CHECK_FALSE(b.options.compare);
    CHECK(b.options.rootfs == "copy");
    CHECK(
        command_of<BenchCmd>(parse_args({"bench", "--image", "/i", "--compare"})).options.compare);
    CHECK(command_of<BenchCmd>(parse_args({"bench", "--image", "/i", "--rootfs", "overlay"}))
              .options.rootfs == "overlay");
    b = command_of<BenchCmd>(
        parse_args({"bench", "--image", "busybox", "--iterations", "1000", "--network", "none",
                    "--json", "--plot", "/tmp/b.svg", "--stop-time", "0"}));
    CHECK(b.options.iterations == 1000);
    CHECK(b.options.network == "none");
    CHECK(b.options.stop_time == 0);
    CHECK(b.json);
    CHECK(b.plot == "/tmp/b.svg");
    // Each bad value is a usage error (exit 2) naming the option.
    for (auto [args, option] : std::vector<std::pair<std::vector<const char*>, std::string>>{
             {{"bench"}, "--image"},
             {{"bench", "--image", "x", "--iterations", "0"}, "--iterations"},
             {{"bench", "--image", "x", "--iterations", "1001"}, "--iterations"},
             {{"bench", "--image", "x", "--iterations", "-3"}, "--iterations"},
             {{"bench", "--image", "x", "--iterations", "2x"}, "--iterations"},
             {{"bench", "--image", "x", "--network", "host"}, "--network"},
             {{"bench", "--image", "x", "--rootfs", "bind"}, "--rootfs"},
             {{"bench", "--image", "x", "--stop-time", "3601"}, "--stop-time"},
             {{"bench", "--image", "x", "--plot", ""}, "--plot"},
             {{"bench", "--image", ""}, "--image"},
         }) {
        auto out = output_of(parse_args(args));
        INFO(out.text);
        CHECK(out.exit_code == kExitUsage);
        CHECK(out.text.find(option) != std::string::npos);
    }
}

TEST_CASE("VOLT_TIMING_FD must be a descriptor number of 3 or above", "[unit]") {
    for (const char* bad : {"x", "2", "-1", "3 ", "1e3", "99999999999"}) {
        runtime::Paths p;
        p.timing_fd = bad;
        std::vector<const char*> args = {"volt-run", "list"};
        auto r = parse(static_cast<int>(args.size()), args.data(), p);
        auto out = output_of(r);
        INFO(bad);
        CHECK(out.exit_code == kExitUsage);
        CHECK(out.text.find("VOLT_TIMING_FD") != std::string::npos);
    }
    runtime::Paths p;
    p.timing_fd = "3";
    std::vector<const char*> args = {"volt-run", "list"};
    CHECK(std::holds_alternative<Invocation>(parse(2, args.data(), p)));
}
