// volt-run: a thin shell over the runtime library. Parsing and running are separate functions
// (cli.hpp) so both are testable; this file only wires them to the process.
#include <cstdio>
#include <exception>

#include "base/text.hpp"
#include "runtime/cli/cli.hpp"

int main(int argc, char** argv) {
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
