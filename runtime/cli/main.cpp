// volt-run: a thin shell over the runtime library. Parsing and running are separate functions
// (cli.hpp) so both are testable; this file only wires them to the process.
#include <cstdio>

#include "runtime/cli/cli.hpp"

int main(int argc, char** argv) {
    auto parsed = volt::cli::parse(argc, argv, volt::runtime::Paths::from_environment());
    if (auto* out = std::get_if<volt::cli::Output>(&parsed)) {
        std::fputs(out->text.c_str(), out->to_stderr ? stderr : stdout);
        return out->exit_code;
    }
    return volt::cli::run(std::get<volt::cli::Invocation>(parsed));
}
