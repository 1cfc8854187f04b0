// The table of verbs: one row per subcommand, each naming the options it adds and what it runs.
// parse() builds subcommands from the rows and run() dispatches through them; the rows' code is
// in verbs/<verb>.cpp. The table itself is in verbs.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cli/cli.hpp"

namespace CLI {
class App;
}

namespace volt::cli {

struct Verb {
    std::string_view name;
    std::string_view alias;    // a second name ("rm" for delete), or empty
    std::string_view summary;  // its line in `volt-run --help` and the first of its own help
    // The alternative of Command it parses to; the table is in Command's order.
    std::size_t alternative;
    // Sets `command` to the verb's alternative and adds its positionals and options to `sub`,
    // bound to that alternative: `command` must stay where it is until parsing is done.
    void (*add_options)(CLI::App& sub, Command& command);
    // Only for a verb that takes a command line of its own (exec). The words after the first
    // "--" that follows the verb's name are not parsed; after parsing they come here verbatim,
    // with the parsed subcommand, to complete the verb's alternative in `inv.command`. A bad
    // value is a usage error returned as Output.
    std::optional<Output> (*finish)(const CLI::App& sub, std::vector<std::string> tail,
                                    Invocation& inv);
    // Runs `inv.command`, which holds this verb's alternative; returns the exit code.
    int (*run)(const Invocation& inv);
};

// Every verb, in the order `volt-run --help` lists them.
std::span<const Verb> verb_table();

// The row of the verb a parsed command is: never another verb's.
const Verb& verb_of(const Command& command);

}  // namespace volt::cli
