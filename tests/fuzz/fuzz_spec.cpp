// spec.json: spec_from_json never throws; an error is one line; what parses is written by to_json
// and reads back equal.
#include "runtime/plan/spec.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::guard([&] {
        auto spec = runtime::spec_from_json(std::string(fuzz::text_of(data, size)));
        if (!spec) {
            fuzz::check_one_line(spec.error());
            return;
        }
        const std::string text = runtime::to_json(*spec);
        auto again = runtime::spec_from_json(text);
        fuzz::check(static_cast<bool>(again), "to_json's text does not parse",
                    again ? text : again.error().describe());
        fuzz::check(*again == *spec, "spec does not read back equal", text);
        fuzz::check(runtime::to_json(*again) == text, "to_json is not stable", text);
    });
    return 0;
}
