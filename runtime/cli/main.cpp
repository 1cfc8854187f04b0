// volt-run: a thin shell over the runtime library. Parsing and running are separate functions
// (cli.hpp) so both are testable; this file only wires them to the process.
#include <signal.h>

#include <cstdio>
#include <exception>

#include "base/text.hpp"
#include "runtime/cli/cli.hpp"

int main(int argc, char** argv) {
    // volt-run waits for the children it starts (the boot child, nspawn, exec's command). A
    // caller's SIG_IGN or SA_NOCLDWAIT for SIGCHLD survives execve and would have the kernel reap
    // them unseen: their exit status lost, and a wait for a boot child's hand-off or for nspawn's
    // exit never answered. The default, whatever we were given.
    struct sigaction child_default {};
    child_default.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &child_default, nullptr);
    // The last line of defence: errors are values everywhere below, and a library exception that
    // still gets here is one line and the runtime's exit code, never an abort with a core.
    try {
        auto parsed = volt::cli::parse(argc, argv, volt::runtime::Paths::from_environment());
        if (auto* out = std::get_if<volt::cli::Output>(&parsed)) {
            std::fputs(out->text.c_str(), out->to_stderr ? stderr : stdout);
            return out->exit_code;
        }
        return volt::cli::run(std::get<volt::cli::Invocation>(parsed));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "volt-run: internal error: %s\n",
                     volt::text::printable(e.what()).c_str());
    } catch (...) {
        std::fprintf(stderr, "volt-run: internal error\n");
    }
    return 125;
}
