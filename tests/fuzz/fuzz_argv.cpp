// The command line: the input split at NUL bytes is argv after "volt-run". cli::parse always
// returns (no exception, no exit); a usage error is one line; help and version are not empty.
#include <vector>

#include "runtime/cli/cli.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 16 * 1024)
        return 0;
    std::vector<std::string> args{"volt-run"};
    for (auto& a : fuzz::split_at_nul(fuzz::text_of(data, size)))
        args.push_back(std::move(a));
    std::vector<const char*> argv;
    for (const auto& a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    fuzz::guard([&] {
        auto parsed = cli::parse(static_cast<int>(args.size()), argv.data(), runtime::Paths{});
        auto* out = std::get_if<cli::Output>(&parsed);
        if (!out)
            return;
        if (out->exit_code == 0) {
            fuzz::check(!out->text.empty(), "help or version printed nothing");
            return;
        }
        fuzz::check(out->exit_code == cli::kExitUsage || out->exit_code == cli::kExitRuntime,
                    "parse ended with an undocumented exit code", out->text);
        fuzz::check(out->to_stderr, "an error goes to stdout", out->text);
        fuzz::check(out->text.size() > 1 && out->text.find('\n') == out->text.size() - 1,
                    "a usage error is not one line", out->text);
    });
    return 0;
}
