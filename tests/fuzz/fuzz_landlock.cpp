// Landlock policies: parse_policy never throws; an error is one line; a parsed policy is planned
// for every ABI without a crash, and a plan never handles more than its ABI knows.
#include "landlock/landlock.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::guard([&] {
        auto policy = landlock::parse_policy(fuzz::text_of(data, size), "fuzz.policy");
        if (!policy) {
            fuzz::check_one_line(policy.error());
            return;
        }
        for (const auto& rule : policy->paths)
            fuzz::check(!rule.path.empty() && rule.path[0] == '/', "path rule not absolute",
                        rule.path);
        for (int abi = 0; abi <= landlock::kKnownAbi; ++abi)
            for (auto part : {landlock::Part::exec, landlock::Part::boot}) {
                landlock::Plan plan = landlock::plan(*policy, part, abi);
                fuzz::check((plan.handled_fs & ~landlock::fs_rights_of(abi)) == 0 &&
                                (plan.handled_net & ~landlock::net_rights_of(abi)) == 0 &&
                                (plan.scopes & ~landlock::scopes_of(abi)) == 0,
                            "plan handles rights its ABI lacks");
                (void)plan.describe();
            }
    });
    return 0;
}
