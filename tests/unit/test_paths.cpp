// Everything a user passes or the data root holds is hostile: global path options, what goes
// into the unit and the .nspawn file, volume paths, container names, stored specs and states.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>

#include "base/fs.hpp"
#include "base/proc.hpp"
#include "base/text.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/plan/nspawn.hpp"
#include "runtime/plan/options.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/store/state.hpp"
#include "runtime/store/store.hpp"
#include "support.hpp"
#include "units/units.hpp"

using namespace volt;
using namespace volt::runtime;

namespace {

using test::message_of;

// systemd's reading of an ExecStart= value (systemd.service(5) "Command lines"): specifiers
// first ("%%" is '%'; any other specifier fails the test, since none may reach the line), then
// words split at white space with quotes removed and C escapes undone (extract_first_word with
// EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE), then "$$" is '$' at exec time (a lone '$' would expand a
// variable: fails the test too).
std::optional<std::vector<std::string>> systemd_exec_words(const std::string& value) {
    std::string expanded;
    for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '%') {
            expanded += value[i];
            continue;
        }
        if (i + 1 >= value.size() || value[i + 1] != '%')
            return std::nullopt;
        expanded += '%';
        ++i;
    }
    std::vector<std::string> words;
    size_t i = 0;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    while (i < expanded.size()) {
        while (i < expanded.size() && (expanded[i] == ' ' || expanded[i] == '\t'))
            ++i;
        if (i >= expanded.size())
            break;
        std::string word;
        char quote = 0;
        for (; i < expanded.size(); ++i) {
            char c = expanded[i];
            if (!quote && (c == ' ' || c == '\t'))
                break;
            if (c == '\\') {
                if (++i >= expanded.size())
                    return std::nullopt;
                char e = expanded[i];
                switch (e) {
                    case 'n':
                        word += '\n';
                        break;
                    case 't':
                        word += '\t';
                        break;
                    case 'r':
                        word += '\r';
                        break;
                    case '\\':
                    case '"':
                    case '\'':
                    case ' ':
                        word += e;
                        break;
                    case 'x': {
                        if (i + 2 >= expanded.size())
                            return std::nullopt;
                        int a = hex(expanded[i + 1]), b = hex(expanded[i + 2]);
                        if (a < 0 || b < 0 || (a == 0 && b == 0))
                            return std::nullopt;
                        word += static_cast<char>(a * 16 + b);
                        i += 2;
                        break;
                    }
                    default:
                        return std::nullopt;
                }
                continue;
            }
            if (quote && c == quote) {
                quote = 0;
                continue;
            }
            if (!quote && (c == '"' || c == '\'')) {
                quote = c;
                continue;
            }
            word += c;
        }
        if (quote)
            return std::nullopt;
        std::string unexpanded;
        for (size_t k = 0; k < word.size(); ++k) {
            if (word[k] == '$') {
                if (k + 1 >= word.size() || word[k + 1] != '$')
                    return std::nullopt;
                ++k;
            }
            unexpanded += word[k];
        }
        words.push_back(unexpanded);
    }
    return words;
}

// nspawn's reading of a list setting (config_parse_strv: EXTRACT_UNQUOTE |
// EXTRACT_RETAIN_ESCAPE; checked against systemd-nspawn 252 by hand: backslashes stay, quotes go,
// adjacent quoted parts join).
std::vector<std::string> nspawn_words(const std::string& value) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < value.size()) {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
            ++i;
        if (i >= value.size())
            break;
        std::string word;
        char quote = 0;
        for (; i < value.size(); ++i) {
            char c = value[i];
            if (!quote && (c == ' ' || c == '\t'))
                break;
            if (quote && c == quote) {
                quote = 0;
            } else if (!quote && (c == '"' || c == '\'')) {
                quote = c;
            } else {
                word += c;
            }
        }
        words.push_back(word);
    }
    return words;
}

// The file as systemd's parser sees it: lines end at '\n', '\r' or NUL; "KEY=VALUE" pairs
// outside comments, in order.
std::vector<std::pair<std::string, std::string>> settings_of(const std::string& file) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string line;
    auto flush = [&] {
        if (!line.empty() && line[0] != '#' && line[0] != ';' && line[0] != '[') {
            auto eq = line.find('=');
            REQUIRE(eq != std::string::npos);
            out.emplace_back(line.substr(0, eq), line.substr(eq + 1));
        }
        line.clear();
    };
    for (char c : file) {
        if (c == '\n' || c == '\r' || c == '\0')
            flush();
        else
            line += c;
    }
    flush();
    return out;
}

std::vector<std::string> keys_of(const std::string& file) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : settings_of(file))
        keys.push_back(k);
    return keys;
}

// Strings an attacker would try: line breaks and directives, quotes, escapes, specifiers,
// variables, separators, non-ASCII.
const std::vector<std::string> kHostile = {
    "/x\nExecStartPre=/bin/true",
    "/x\rExecStartPre=/bin/true",
    "/x\n[Service]\nUser=root",
    "/data root",
    "/a\"b",
    "/a'b",
    "/a\\b",
    "/a\\nb",
    "/a\\x41",
    "/100%",
    "/%n%i",
    "/$HOME",
    "/${PATH}",
    "/$$",
    "/;",
    ";",
    "/a ; /bin/rm",
    "/caf\xc3\xa9",
    "/\xff\xfe",
    "/\x1b[31m",
    "/\t\v\f",
    "",
    " ",
    "-",
    "@x",
};

std::variant<cli::Invocation, cli::Output> parse_args(std::vector<const char*> args,
                                                      const Paths& env = {}) {
    args.insert(args.begin(), "volt-run");
    return cli::parse(static_cast<int>(args.size()), args.data(), env);
}

std::string usage_line(const std::variant<cli::Invocation, cli::Output>& r) {
    REQUIRE(std::holds_alternative<cli::Output>(r));
    const auto& out = std::get<cli::Output>(r);
    CHECK(out.exit_code == cli::kExitUsage);
    CHECK(out.to_stderr);
    CHECK(std::count(out.text.begin(), out.text.end(), '\n') == 1);
    return out.text;
}

// The unit for a container and the volt-run command line, every other parameter left default.
std::string unit_for(const std::string& container, const std::vector<std::string>& volt_run) {
    units::ServiceParams params;
    params.container = container;
    params.volt_run = volt_run;
    return units::render_service(params);
}

}  // namespace

TEST_CASE("global paths: absolute, canonical, no control characters, no '..'", "[unit]") {
    CHECK(*check_global_path("--root", "/var/lib/volt") == "/var/lib/volt");
    CHECK(*check_global_path("--root", "/var//lib/./volt/") == "/var/lib/volt");
    CHECK(*check_global_path("--root", "/data root/x") == "/data root/x");
    CHECK(*check_global_path("--root", "/caf\xc3\xa9") == "/caf\xc3\xa9");
    CHECK(message_of(check_global_path("--root", "")) ==
          "--root: invalid value '': a directory is required");
    CHECK(message_of(check_global_path("--root", "var/lib")) ==
          "--root: invalid value 'var/lib': the path must be absolute");
    CHECK(message_of(check_global_path("VOLT_RUN_DIR", "/run/../etc")) ==
          "VOLT_RUN_DIR: invalid value '/run/../etc': the path must not contain '..'");
    CHECK(message_of(check_global_path("--root", "/x\nExecStartPre=/bin/true")) ==
          "--root: invalid value '/x\\nExecStartPre=/bin/true': control characters are not "
          "allowed");
    CHECK(message_of(check_global_path("--unit-dir", "//")) ==
          "--unit-dir: invalid value '//': the path must not be /");
    CHECK_FALSE(check_global_path("--root", "/./").ok());
    CHECK_FALSE(check_global_path("--root", "/x\r").ok());
    CHECK_FALSE(check_global_path("--root", "/x\x7f").ok());
    CHECK_FALSE(check_global_path("--root", "/x\t").ok());
    CHECK_FALSE(check_global_path("--root", "/\xff").ok());
    CHECK_FALSE(check_global_path("--root", "/\xc3").ok());
    CHECK_FALSE(check_global_path("--root", "/\xed\xa0\x80").ok());  // a surrogate
    CHECK_FALSE(check_global_path("--root", "/\xc0\xaf").ok());      // overlong '/'
}

TEST_CASE("global path options and their variables are refused in one line, exit 2", "[unit]") {
    for (const char* flag :
         {"--root", "--unit-dir", "--nspawn-dir", "--run-dir", "--cgroup-root"}) {
        INFO(flag);
        for (const char* value : {"", "relative", "/x\nExecStartPre=/bin/true", "/a/../b", "/"}) {
            std::string line = usage_line(parse_args({flag, value, "list"}));
            CHECK(line.starts_with(std::string("volt-run: ") + flag + ": invalid value '"));
        }
    }
    Paths env;
    env.root = "/x\nExecStartPre=/bin/true";
    CHECK(usage_line(parse_args({"list"}, env)) ==
          "volt-run: VOLT_ROOT: invalid value '/x\\nExecStartPre=/bin/true': control characters "
          "are not allowed\n");
    env = Paths{};
    env.run_dir = "run";
    CHECK(usage_line(parse_args({"list"}, env)).starts_with("volt-run: VOLT_RUN_DIR:"));
    // A flag replaces its variable, whatever the variable held.
    auto ok = parse_args({"--run-dir", "/run/v", "list"}, env);
    REQUIRE(std::holds_alternative<cli::Invocation>(ok));
    env = Paths{};
    env.subnet = "10.0.0.0/8\nExecStartPre=/bin/true";
    CHECK(usage_line(parse_args({"list"}, env)).starts_with("volt-run: VOLT_SUBNET: invalid"));
    CHECK(usage_line(parse_args({"--subnet", "10.0.0.1/8", "list"}))
              .starts_with("volt-run: --subnet: "));

    auto r = parse_args({"--root", "/srv//volt/./", "--run-dir", "/run/volt/", "list"});
    REQUIRE(std::holds_alternative<cli::Invocation>(r));
    const Paths& p = std::get<cli::Invocation>(r).paths;
    CHECK(p.root == "/srv/volt");
    CHECK(p.run_dir == "/run/volt");
    CHECK(p.cgroup_root.empty());  // not given: found at run time
}

TEST_CASE("Paths::from_environment takes the variables verbatim, for the CLI to check", "[unit]") {
    ::setenv("VOLT_ROOT", "relative/root", 1);
    ::setenv("VOLT_RUN_DIR", "", 1);
    Paths p = Paths::from_environment();
    ::unsetenv("VOLT_ROOT");
    ::unsetenv("VOLT_RUN_DIR");
    CHECK(p.root == "relative/root");     // was made absolute against the cwd, silently
    CHECK(p.run_dir == Paths{}.run_dir);  // empty: unset
    CHECK_FALSE(check_paths(p).ok());
    CHECK(check_paths(Paths{}).ok());
}

TEST_CASE("quote_exec_arg: systemd reads every argument back verbatim, on one line", "[unit]") {
    std::vector<std::string> args = kHostile;
    for (int c = 1; c < 256; ++c)
        args.push_back("/a" + std::string(1, static_cast<char>(c)) + "b");
    for (const auto& arg : args) {
        INFO(text::printable(arg));
        std::string quoted = units::quote_exec_arg(arg);
        for (char c : quoted) {
            auto u = static_cast<unsigned char>(c);
            CHECK((u >= 0x20 && u < 0x7f));  // one line of printable ASCII
        }
        auto words = systemd_exec_words("/usr/bin/volt-run " + quoted + " boot web");
        REQUIRE(words);
        CHECK(*words == std::vector<std::string>{"/usr/bin/volt-run", arg, "boot", "web"});
    }
    // A lone ';' is a command separator: it must come out quoted.
    CHECK(units::quote_exec_arg(";") == "\";\"");
    CHECK(units::quote_exec_arg("a\nb") == "\"a\\x0ab\"");
    CHECK(units::quote_exec_arg("caf\xc3\xa9") == "\"caf\\xc3\\xa9\"");
}

TEST_CASE("the unit: no path or name adds a directive, and ExecStart= reads back", "[unit]") {
    // The directives of a unit rendered from ordinary values: no hostile value may change them.
    const auto expected_keys = keys_of(unit_for("web", {"/usr/lib/volt/volt-run"}));
    REQUIRE(std::count(expected_keys.begin(), expected_keys.end(), "ExecStart") == 1);
    for (const auto& hostile : kHostile) {
        INFO(text::printable(hostile));
        Paths p;
        p.root = hostile;
        p.run_dir = "/run/" + hostile;
        p.cgroup_root = hostile + "/cg";
        p.subnet = hostile;
        auto argv = unit_command("/usr/lib/volt/volt-run", p);
        REQUIRE(argv.size() == 9);
        for (const std::string& container : {std::string("web"), hostile}) {
            std::string unit = unit_for(container, argv);
            CHECK(keys_of(unit) == expected_keys);
            if (container != "web")
                continue;  // names are validated; here only that they add no line
            for (const auto& [k, v] : settings_of(unit)) {
                if (k != "ExecStart" && k != "ExecStopPost")
                    continue;
                auto words = systemd_exec_words(v);
                REQUIRE(words);
                std::vector<std::string> want = argv;
                want.push_back(k == "ExecStart" ? "boot" : "stop");
                want.push_back("web");
                CHECK(*words == want);
            }
        }
    }
}

TEST_CASE(".nspawn file: environment values read back as one word each, nothing injected",
          "[unit]") {
    units::NspawnSettings s;
    s.container = "web";
    s.private_users = "pick";
    s.environment = {"A=plain",         "B=two words",       "C=q'uote",         "D=d\"quote",
                     "E=both ' and \"", "F=back\\slash",     "G=%h$HOME",        "H=",
                     "I=\ttab",         "J=a\nBind=/:/host", "K=a\rBind=/:/host"};
    s.binds = {{"/srv/data", "/data", false},
               {"/srv/a b", "/a b", true},
               {"/x\nBind=/", "/y", false},
               {"/x", "/y\rBindReadOnly=/:/host", false},
               {"/x:/etc", "/y", false}};
    std::string file = units::render_nspawn(s);
    std::vector<std::string> env;
    std::vector<std::string> binds;
    for (const auto& [k, v] : settings_of(file)) {
        if (k == "Environment") {
            auto words = nspawn_words(v);
            CHECK(words.size() == 1);
            env.insert(env.end(), words.begin(), words.end());
        } else if (k == "Bind" || k == "BindReadOnly") {
            binds.push_back(k + "=" + v);
        } else {
            CHECK((k == "Boot" || k == "PrivateUsers" || k == "NotifyReady" ||
                   k == "PrivateUsersOwnership"));
        }
    }
    // The values no line can hold are left out (nspawn's command line carries them).
    CHECK(env == std::vector<std::string>{"A=plain", "B=two words", "C=q'uote", "D=d\"quote",
                                          "E=both ' and \"", "F=back\\slash", "G=%h$HOME", "H="});
    CHECK(binds == std::vector<std::string>{"Bind=/srv/data:/data", "BindReadOnly=/srv/a b:/a b"});
    CHECK(units::quote_nspawn_word("B=two words") == "\"B=two words\"");
    CHECK(units::quote_nspawn_word("A=1") == "A=1");
    CHECK(units::quote_nspawn_word("a\nb").empty());
}

TEST_CASE("volume targets are normalized before the checks, and /, /proc, /dev, /sys refused",
          "[unit]") {
    for (const char* bad : {"/tmp:/./", "/tmp://", "/tmp:/.", "/tmp:///", "/tmp:/proc",
                            "/tmp:/proc/", "/tmp:/proc/sys", "/tmp://dev", "/tmp:/dev/shm",
                            "/tmp:/sys", "/tmp:/./sys/fs/cgroup", "/tmp:/sys/"}) {
        INFO(bad);
        auto v = parse_volume(bad, true);
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().describe().starts_with(std::string("--volume: invalid value '") + bad +
                                               "': cannot mount "));
    }
    CHECK(message_of(parse_volume("/tmp:/proc/x", true)) ==
          "--volume: invalid value '/tmp:/proc/x': cannot mount on /proc or below it: nspawn "
          "mounts it itself");
    CHECK(parse_volume("/tmp:/devices", true)->container == "/devices");
    CHECK(parse_volume("/tmp:/system", true)->container == "/system");
    CHECK(parse_volume("/tmp:/data//x/./", true)->container == "/data/x");
    CHECK(parse_volume("/tmp:/data:ro", true)->kind == "directory");
    for (const char* bad : {"/tmp:/a\nb", "/tmp\r:/a", "/tmp:/a\x1b", "/tmp:/a ", "/tmp:/\xff"}) {
        INFO(text::printable(bad));
        auto v = parse_volume(bad, true);
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().describe().find('\n') == std::string::npos);
        CHECK(v.error().describe().find('\r') == std::string::npos);
    }
}

TEST_CASE("a volume's host path is resolved at create and stored canonical", "[unit]") {
    test::TempDir dir;
    REQUIRE(fs::mkdir_p(dir / "real/sub"));
    REQUIRE(fs::write_file_atomic(dir / "file", "x"));
    REQUIRE(::symlink((dir / "real").c_str(), (dir / "link").c_str()) == 0);
    REQUIRE(::symlink("real/sub", (dir / "rel-link").c_str()) == 0);
    char* canonical_dir = ::realpath(dir.path().c_str(), nullptr);
    REQUIRE(canonical_dir);
    std::string base = canonical_dir;
    std::free(canonical_dir);

    auto v = parse_volume(dir / "link" + ":/data", true);
    REQUIRE(v);
    CHECK(v->host == base + "/real");
    CHECK(v->kind == "directory");
    CHECK(parse_volume(dir / "rel-link" + ":/data", true)->host == base + "/real/sub");
    CHECK(parse_volume(dir / "link/./sub/" + ":/data", true)->host == base + "/real/sub");
    auto f = parse_volume(dir / "file" + ":/etc/x", true);
    REQUIRE(f);
    CHECK(f->kind == "file");
    CHECK(check_volume_source(*v).ok());
    CHECK(check_volume_source(*f).ok());

    // A link whose target holds ':' would be split by nspawn: refused after resolution.
    REQUIRE(fs::mkdir_p(dir / "a:b"));
    REQUIRE(::symlink((dir / "a:b").c_str(), (dir / "colon").c_str()) == 0);
    CHECK(message_of(parse_volume(dir / "colon" + ":/data", true))
              .find("the resolved host path holds ':'") != std::string::npos);
    CHECK_FALSE(parse_volume(dir / "missing" + ":/data", true).ok());
}

TEST_CASE("boot's volume check: a source that became a link, or changed kind, is refused",
          "[unit]") {
    test::TempDir dir;
    REQUIRE(fs::mkdir_p(dir / "a"));
    REQUIRE(fs::mkdir_p(dir / "b"));
    auto v = parse_volume(dir / "a" + ":/data", true);
    REQUIRE(v);
    REQUIRE(check_volume_source(*v).ok());

    // Retargeted after create: the stored path is now a symlink to another host directory.
    REQUIRE(::rename((dir / "a").c_str(), (dir / "a.old").c_str()) == 0);
    REQUIRE(::symlink((dir / "b").c_str(), (dir / "a").c_str()) == 0);
    auto st = check_volume_source(*v);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind() == ErrorKind::usage);
    CHECK(st.error().describe().find("has become a symbolic link") != std::string::npos);

    // A directory above it turned into a link: refused as well.
    test::TempDir other;
    REQUIRE(fs::mkdir_p(other / "parent/leaf"));
    auto deep = parse_volume(other / "parent/leaf" + ":/data", true);
    REQUIRE(deep);
    REQUIRE(::rename((other / "parent").c_str(), (other / "moved").c_str()) == 0);
    REQUIRE(::symlink((other / "moved").c_str(), (other / "parent").c_str()) == 0);
    CHECK_FALSE(check_volume_source(*deep).ok());

    // A directory replaced by a file.
    REQUIRE(::unlink((dir / "a").c_str()) == 0);
    REQUIRE(fs::write_file_atomic(dir / "a", "x"));
    st = check_volume_source(*v);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().describe().find("was a directory at create and is a file now") !=
          std::string::npos);
}

TEST_CASE("container names: no '.', '..', '/', leading '.' or '-', control characters", "[unit]") {
    for (const std::string& bad :
         std::vector<std::string>{"", ".", "..", ".netns", "-x", "a/b", "/", "a\nb", "a b", "a:b",
                                  "a+b", "a%b", "a$b", "a\\b", std::string(65, 'a')}) {
        INFO(text::printable(bad));
        CHECK_FALSE(validate_name(bad).ok());
    }
    for (const char* good : {"web", "netns", "containers", "config", "lock", "a.b", "a_b-1"})
        CHECK(validate_name(good).ok());
}

TEST_CASE("no container name collides with volt-run's own paths", "[unit]") {
    Paths p;
    p.root = "/r";
    p.run_dir = "/run/v";
    // The names that were a problem, and every name of volt-run's own entries.
    for (const std::string name : {"netns", "network", "cache", "images", "config", "containers",
                                   "lock", "seccomp", "volt.slice", "web"}) {
        INFO(name);
        REQUIRE(validate_name(name).ok());
        for (const std::string& own :
             {p.netns_dir(), p.network_dir(), p.network_lock(), p.seccomp_cache(), p.images(),
              p.root + "/config", p.root + "/containers"}) {
            for (const std::string& mine :
                 {p.state_dir(name), p.config_dir(name), p.rootfs(name), p.rootfs_staging(name)}) {
                CHECK(mine != own);
                CHECK_FALSE(own.starts_with(mine + "/"));
                CHECK_FALSE(mine.starts_with(p.netns_dir() + "/"));
            }
        }
        CHECK(p.netns(name).starts_with(p.run_dir + "/."));
    }
}

TEST_CASE("a stored spec is checked again: its name, volumes and environment", "[unit]") {
    test::TempDir dir;
    Paths p;
    p.root = dir / "root";
    Spec s;
    s.name = "web";
    auto store = [&](const Spec& spec) {
        REQUIRE(fs::mkdir_p(p.config_dir("web")));
        REQUIRE(fs::write_file_atomic(p.spec_file("web"), to_json(spec)));
    };
    store(s);
    REQUIRE(load_spec(p, "web").ok());
    CHECK(check_stored_spec(*load_spec(p, "web")).ok());

    Spec other = s;
    other.name = "../../etc";
    store(other);
    CHECK(message_of(load_spec(p, "web")).find("names container '../../etc', not web") !=
          std::string::npos);
    for (const Volume& v : {Volume{"/tmp", "/proc", false, "directory", false},
                            Volume{"/tmp", "/./", false, "directory", false},
                            Volume{"/tmp", "/data/../proc", false, "directory", false},
                            Volume{"/tmp", "/data//x", false, "directory", false},
                            Volume{"tmp", "/data", false, "directory", false},
                            Volume{"/tmp\nBind=/", "/data", false, "directory", false},
                            Volume{"/tmp", "/data", false, "file", false}}) {
        INFO(text::printable(v.host + ":" + v.container));
        Spec bad = s;
        bad.volumes = {v};
        store(bad);
        auto loaded = load_spec(p, "web");
        REQUIRE(loaded);  // still loaded, so that delete removes it
        CHECK_FALSE(check_stored_spec(*loaded).ok());
    }
    Spec env = s;
    env.env = {"A=x\rBind=/:/host"};
    store(env);
    CHECK_FALSE(check_stored_spec(*load_spec(p, "web")).ok());
}

TEST_CASE("state cgroups: only the container's own paths below the mount", "[unit]") {
    cgroup::Mounts m;
    m.unified = "/sys/fs/cgroup/unified";
    m.named_systemd = "/sys/fs/cgroup/systemd";
    State s;
    s.nspawn_pid = 42;
    s.cgroup = "/sys/fs/cgroup/unified/user.slice/volt.slice/volt-hybrid-web";
    s.cgroup_v1 = "/sys/fs/cgroup/systemd/user.slice/volt.slice/volt-hybrid-web";
    CHECK(*check_state_cgroups(m, "web", s) == "/user.slice/volt.slice/volt-hybrid-web");
    State top = s;
    top.cgroup = "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web";
    top.cgroup_v1.clear();
    CHECK(*check_state_cgroups(m, "web", top) == "/volt.slice/volt-hybrid-web");
    State unit = s;
    unit.under_systemd = true;
    unit.cgroup =
        "/sys/fs/cgroup/unified/volt.slice/volt-hybrid.slice/volt-hybrid@web.service/container";
    unit.cgroup_v1.clear();
    CHECK(check_state_cgroups(m, "web", unit).ok());

    for (const std::string bad :
         {"/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/", "/sys/fs/cgroup/unified/other",
          "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web2",
          "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-other",
          "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web/..",
          "/sys/fs/cgroup/unified/x/../volt.slice/volt-hybrid-web/../../other",
          "/sys/fs/cgroup/unified//volt.slice/volt-hybrid-web",
          "/sys/fs/cgroup/unifiedX/volt.slice/volt-hybrid-web", "/tmp/volt.slice/volt-hybrid-web",
          "relative/volt.slice/volt-hybrid-web",
          "/sys/fs/cgroup/unified/volt.slice/volt-hybrid@web.service/container",
          "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web\n"}) {
        INFO(text::printable(bad));
        State h = s;
        h.cgroup = bad;
        CHECK_FALSE(check_state_cgroups(m, "web", h).ok());
    }
    State v1 = s;
    v1.cgroup_v1 = "/sys/fs/cgroup/systemd/other";
    CHECK_FALSE(check_state_cgroups(m, "web", v1).ok());
    v1.cgroup_v1 = s.cgroup;  // the unified path is not below the v1 mount
    CHECK_FALSE(check_state_cgroups(m, "web", v1).ok());
    State pid_only = s;
    pid_only.cgroup.clear();
    pid_only.cgroup_v1.clear();
    CHECK_FALSE(check_state_cgroups(m, "web", pid_only).ok());
    pid_only.nspawn_pid = 0;
    CHECK(*check_state_cgroups(m, "web", pid_only) == "");
}

TEST_CASE(
    "read_state: a state naming another cgroup is stale, and open_nspawn refuses a pid "
    "outside the container's cgroup",
    "[unit]") {
    test::TempDir dir;
    Paths p;
    p.root = dir / "root";
    p.run_dir = dir / "run";
    p.cgroup_root = "/sys/fs/cgroup/unified";
    State s;
    s.nspawn_pid = ::getpid();  // alive, but not in the container's cgroup
    s.nspawn_start_time = proc::stat(::getpid())->start_time;
    s.cgroup = "/sys/fs/cgroup/unified/elsewhere";
    REQUIRE(write_state(p, "web", s));
    auto read = read_state(p, "web");
    REQUIRE(read);
    REQUIRE(*read);
    CHECK((*read)->nspawn_pid == 0);
    CHECK((*read)->cgroup.empty());
    CHECK_FALSE(open_nspawn(**read));

    s.cgroup = "/sys/fs/cgroup/unified/volt.slice/volt-hybrid-web";
    REQUIRE(write_state(p, "web", s));
    read = read_state(p, "web");
    REQUIRE(read);
    REQUIRE(*read);
    CHECK((*read)->nspawn_pid == ::getpid());
    CHECK((*read)->cgroup_relative == "/volt.slice/volt-hybrid-web");
    // This process is alive and the start time matches, but it is not in that cgroup.
    CHECK_FALSE(open_nspawn(**read));
}
