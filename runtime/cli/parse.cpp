#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <span>
#include <utility>

#include "base/text.hpp"
#include "netlink/address.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/cli/verbs.hpp"

namespace volt::cli {
namespace {

constexpr const char* kFooter =
    "Exit codes: 0 success; 2 usage error; 125 volt-run failed; 126 the command cannot be "
    "executed; 127 the command was not found; 128+N killed by signal N (exec passes the "
    "command's own code through).";

void add_global_options(CLI::App& app, Invocation& inv) {
    runtime::Paths& p = inv.paths;
    app.add_option("--root", p.root, "Data directory: containers/, images/, config/ (VOLT_ROOT)")
        ->capture_default_str();
    app.add_option("--unit-dir", p.unit_dir, "Where unit files are written (VOLT_UNIT_DIR)")
        ->capture_default_str();
    app.add_option("--nspawn-dir", p.nspawn_dir,
                   "Where .nspawn settings files are written (VOLT_NSPAWN_DIR)")
        ->capture_default_str();
    app.add_option("--run-dir", p.run_dir, "Runtime state directory (VOLT_RUN_DIR)")
        ->capture_default_str();
    app.add_option("--cgroup-root", p.cgroup_root,
                   "cgroup2 mount to use instead of the one found (VOLT_CGROUP_ROOT)");
    app.add_option("--subnet", p.subnet,
                   "Subnet of voltbr0 for --network private; its first address is the gateway "
                   "(VOLT_SUBNET)")
        ->capture_default_str();
    app.add_flag("-v,--verbose", inv.verbosity, "More output (-vv for debug)");
}

// The global paths, canonical (check_global_path), and the subnet: each bad value is one line
// naming the option, or the VOLT_* variable it came from, before any command runs.
std::optional<Output> check_global_options(const CLI::App& app, runtime::Paths& p) {
    struct Field {
        const char* flag;
        const char* variable;
        std::string& value;
    };
    for (Field f :
         {Field{"--root", "VOLT_ROOT", p.root}, Field{"--unit-dir", "VOLT_UNIT_DIR", p.unit_dir},
          Field{"--nspawn-dir", "VOLT_NSPAWN_DIR", p.nspawn_dir},
          Field{"--run-dir", "VOLT_RUN_DIR", p.run_dir},
          Field{"--cgroup-root", "VOLT_CGROUP_ROOT", p.cgroup_root}}) {
        bool given = app.count(f.flag) > 0;
        if (!given && f.value.empty())
            continue;  // --cgroup-root: found at run time
        auto canonical = runtime::check_global_path(given ? f.flag : f.variable, f.value);
        if (!canonical)
            return Output{"volt-run: " + canonical.error().describe() + "\n", kExitUsage, true};
        f.value = *canonical;
    }
    const char* subnet_option = app.count("--subnet") ? "--subnet" : "VOLT_SUBNET";
    if (text::has_control(p.subnet))
        return Output{std::string("volt-run: ") + subnet_option + ": invalid value '" +
                          text::printable(p.subnet) + "': control characters are not allowed\n",
                      kExitUsage, true};
    if (auto subnet = netlink::parse_subnet(p.subnet); !subnet)
        return Output{
            std::string("volt-run: ") + subnet_option + ": " + subnet.error().describe() + "\n",
            kExitUsage, true};
    if (const std::string& abi = p.landlock_max_abi; !abi.empty()) {
        unsigned n = 0;
        auto [end, ec] = std::from_chars(abi.data(), abi.data() + abi.size(), n);
        if (ec != std::errc() || end != abi.data() + abi.size() || n > 1000)
            return Output{"volt-run: VOLT_LANDLOCK_MAX_ABI: invalid value '" +
                              text::printable(abi) + "': must be a Landlock ABI number (0-1000)\n",
                          kExitUsage, true};
    }
    if (const std::string& fd = p.timing_fd; !fd.empty()) {
        int n = 0;
        auto [end, ec] = std::from_chars(fd.data(), fd.data() + fd.size(), n);
        if (ec != std::errc() || end != fd.data() + fd.size() || n < 3)
            return Output{"volt-run: VOLT_TIMING_FD: invalid value '" + text::printable(fd) +
                              "': must be a file descriptor number, 3 or above\n",
                          kExitUsage, true};
    }
    return std::nullopt;
}

// An option given an empty value ("--memory ''", "--since="): refused in one line naming it, and
// never read as "not given", which an empty string means to the verbs (and to update: "no change").
std::optional<Output> refuse_empty_values(const CLI::App& app, const CLI::App& verb) {
    for (const CLI::App* scope : {&app, &verb})
        for (const CLI::Option* opt : scope->get_options())
            if (opt->nonpositional() && opt->get_type_size() > 0 && opt->count() > 0)
                for (const std::string& value : opt->results())
                    if (value.empty())
                        return Output{"volt-run: " + opt->get_name() +
                                          ": invalid value '': an empty value is not allowed\n",
                                      kExitUsage, true};
    return std::nullopt;
}

// The verb the command line names: its first word that is neither an option of `app` (the global
// ones) nor such an option's value, and where that word is. nullptr when that word names none (or
// there is none).
std::pair<const Verb*, std::size_t> named_verb(const CLI::App& app,
                                               const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() > 1 && a[0] == '-') {
            if (a.find('=') != std::string::npos)
                continue;
            for (const CLI::Option* opt : app.get_options())
                // Not get_type_size(): a counting flag (-v, bound to an int) has one, and then
                // "-v image list" took "image" for its value and "list" for the verb.
                if (opt->get_expected_min() > 0 && opt->check_name(a)) {
                    ++i;  // its value
                    break;
                }
            continue;
        }
        for (const Verb& verb : verb_table())
            if (a == verb.name || (!verb.alias.empty() && a == verb.alias))
                return {&verb, i};
        return {nullptr, i};
    }
    return {nullptr, args.size()};
}

}  // namespace

namespace {

std::variant<Invocation, Output> parse_unchecked(int argc, const char* const* argv,
                                                 const runtime::Paths& paths_from_env) {
    Invocation inv;
    inv.paths = paths_from_env;
    CLI::App app("volt-run: low-level runtime for Volt's hybrid-native containers", "volt-run");
    // Once, in volt-run --help; each command's man page has it too (EXIT STATUS).
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("volt-run ") + VOLT_VERSION);
    app.require_subcommand(1);
    add_global_options(app, inv);
    std::vector<std::string> args(argv + 1, argv + argc);

    // Only the verb named is built when there is one: building all of them costs every `exec`
    // about 15 page faults and half a millisecond (docs/BENCHMARKS.md). Without one (help, a
    // typo), all are, so that help lists them and errors name them. Each built verb binds its
    // options to a command of its own, and the one CLI11 parsed becomes the invocation's.
    auto [named, named_at] = named_verb(app, args);
    std::span<const Verb> built = named ? std::span<const Verb>(named, 1) : verb_table();
    std::vector<Command> commands(built.size());
    std::vector<CLI::App*> subs;
    subs.reserve(built.size());
    for (std::size_t i = 0; i < built.size(); ++i) {
        CLI::App* sub =
            app.add_subcommand(std::string(built[i].name), std::string(built[i].summary));
        if (!built[i].alias.empty())
            sub->alias(std::string(built[i].alias));
        built[i].add_options(*sub, commands[i]);
        sub->footer("");  // a subcommand inherits volt-run's footer: the exit codes stay once
        subs.push_back(sub);
    }

    // "exec NAME -- CMD ARGS…": everything after the first "--" following the verb is the
    // command, verbatim; CLI11 only sees what comes before it.
    std::vector<std::string> tail;
    if (named && named->finish) {
        auto dashes = std::find(args.begin() + static_cast<std::ptrdiff_t>(named_at), args.end(),
                                std::string("--"));
        if (dashes != args.end()) {
            tail.assign(dashes + 1, args.end());
            args.erase(dashes, args.end());
        }
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp&) {
        // --help on a subcommand prints that subcommand's help, at any depth ("image import").
        const CLI::App* target = &app;
        for (bool deeper = true; deeper;) {
            deeper = false;
            for (auto* sub : target->get_subcommands())
                if (sub->parsed()) {
                    target = sub;
                    deeper = true;
                    break;
                }
        }
        return Output{target->help(), 0};
    } catch (const CLI::CallForAllHelp&) {
        return Output{app.help("", CLI::AppFormatMode::All), 0};
    } catch (const CLI::CallForVersion&) {
        return Output{std::string("volt-run ") + VOLT_VERSION + "\n", 0};
    } catch (const CLI::ParseError& e) {
        // "volt-run frobnicate": CLI11 only says a subcommand is required; name the word.
        if (app.get_subcommands().empty() && !app.remaining().empty())
            return Output{"volt-run: unknown command '" + app.remaining().front() +
                              "' (see volt-run --help)\n",
                          kExitUsage, true};
        return Output{std::string("volt-run: ") + e.what() + " (see volt-run --help)\n", kExitUsage,
                      true};
    }

    const CLI::App* parsed = app.get_subcommands().front();
    if (auto bad = refuse_empty_values(app, *parsed))
        return *bad;
    if (auto bad = check_global_options(app, inv.paths))
        return *bad;
    std::size_t k =
        static_cast<std::size_t>(std::find(subs.begin(), subs.end(), parsed) - subs.begin());
    if (k == subs.size())  // CLI11 parsed only subcommands made here
        return Output{"volt-run: internal error: parsed an unknown subcommand\n", kExitRuntime,
                      true};
    inv.command = std::move(commands[k]);
    if (built[k].finish)
        if (auto bad = built[k].finish(*parsed, std::move(tail), inv))
            return *bad;
    return inv;
}

}  // namespace

std::variant<Invocation, Output> parse(int argc, const char* const* argv,
                                       const runtime::Paths& paths_from_env) {
    auto parsed = parse_unchecked(argc, argv, paths_from_env);
    // An error is one line, whatever bytes the values it names hold: a newline, an escape
    // sequence or a byte that is not UTF-8 is shown escaped (text::printable, idempotent).
    if (auto* out = std::get_if<Output>(&parsed); out && out->exit_code != 0) {
        std::string_view body = out->text;
        if (body.ends_with('\n'))
            body.remove_suffix(1);
        out->text = text::printable(body) + "\n";
    }
    return parsed;
}

}  // namespace volt::cli
