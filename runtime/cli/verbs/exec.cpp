// volt-run exec [OPTIONS] NAME [--] [CMD [ARGS...]]: a command inside a running container (the
// user's shell when none is given), whose exit code becomes volt-run's.
#include <CLI/CLI.hpp>

#include "base/syscalls.hpp"
#include "base/text.hpp"
#include "runtime/cli/verbs/entries.hpp"
#include "runtime/cli/verbs/shared.hpp"

namespace volt::cli::verbs {

void add_exec(CLI::App& sub, ExecCmd& c) {
    sub.add_option("name", c.name, "Container name")->required();
    sub.add_option("-e,--env", c.options.env, "KEY=VALUE for the command (repeatable)")
        ->allow_extra_args(false);
    sub.add_option("-w,--workdir", c.options.workdir, "Working directory inside the container");
    sub.add_option("--seccomp", c.options.seccomp,
                   "default, strict, unconfined or a profile file, instead of the container's");
    // Read back by finish_exec: the mode is checked there, the count adds to the verbosity.
    sub.add_option("--landlock-mode", "best-effort or require, instead of the container's")
        ->type_name("TEXT");
    const std::string verbose_help = "Report what is enforced (Landlock level, skipped paths)";
    sub.add_flag("-v,--verbose", verbose_help);
    sub.add_flag("-t,--tty", c.options.tty,
                 "Give the command a terminal (a pty in the container's /dev/pts)");
    sub.add_flag("-i,--interactive", c.options.interactive,
                 "With --tty, forward stdin to the command (without --tty stdin always passes)");
    sub.add_option("-u,--user", c.options.user,
                   "USER[:GROUP] to run as: names from the container's /etc/passwd and "
                   "/etc/group, or numeric ids (default: root)");
    sub.add_flag("-d,--detach", c.options.detach,
                 "Start the command and return: it keeps running after volt-run exits (without "
                 "it, the command is killed if volt-run is)");
    sub.add_flag("--allow-new-privileges", c.options.allow_new_privileges,
                 "Let setuid files and file capabilities raise the command's privileges "
                 "(no_new_privs is set by default)");
    // The command is not a CLI11 positional: everything from the first word after NAME belongs
    // to it, options included and in order ("exec web ls -l" as well as "exec web -- ls -l").
    sub.prefix_command();
}

std::optional<Output> finish_exec(const CLI::App& sub, std::vector<std::string> tail,
                                  Invocation& inv, ExecCmd& c) {
    // With prefix_command, the command's own arguments arrive as "remaining", and so does an
    // option exec does not know: no command starts with '-', so its first word is one of exec's
    // options or a mistake ("exec -t web sh" must not run "-t"). After "--" words are verbatim.
    c.options.argv = sub.remaining();
    if (!c.options.argv.empty() && c.options.argv.front().starts_with('-'))
        return Output{"volt-run: exec: unknown option '" + text::printable(c.options.argv.front()) +
                          "' (see volt-run exec --help)\n",
                      kExitUsage, true};
    c.options.argv.insert(c.options.argv.end(), std::make_move_iterator(tail.begin()),
                          std::make_move_iterator(tail.end()));
    if (const CLI::Option* mode_option = sub.get_option("--landlock-mode"); mode_option->count()) {
        auto mode = runtime::parse_landlock_mode("--landlock-mode", mode_option->as<std::string>());
        if (!mode)
            return Output{"volt-run: " + mode.error().describe() + "\n", kExitUsage, true};
        c.options.landlock_mode = *mode;
    }
    inv.verbosity += static_cast<int>(sub.count("--verbose"));
    return std::nullopt;
}

int run_exec(const Invocation& inv, const ExecCmd& c) {
    // Before anything is opened: no fd the caller left open (a host directory, a socket) may
    // reach the command, nor sit in the child while it joins the container.
    if (sys::close_range(3) < 0)
        return fail(Error::from_errno("closing inherited file descriptors"));
    auto code = runtime::exec(inv.paths, c.name, c.options);
    if (!code)
        return fail(code.error());
    return *code;
}

}  // namespace volt::cli::verbs
