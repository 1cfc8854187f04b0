// state.json: state_from_json never throws; an error is one line; what parses is written by
// to_json and reads back the same (compared as written: State has no operator==, and what to_json
// leaves out, an empty network or exec part, reads back as its default).
#include "runtime/store/state.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::guard([&] {
        auto state = runtime::state_from_json(std::string(fuzz::text_of(data, size)));
        if (!state) {
            fuzz::check_one_line(state.error());
            return;
        }
        const std::string text = runtime::to_json(*state);
        auto again = runtime::state_from_json(text);
        fuzz::check(static_cast<bool>(again), "to_json's text does not parse",
                    again ? text : again.error().describe());
        fuzz::check(runtime::to_json(*again) == text, "state does not read back the same", text);
        // What is always written must survive as it was read.
        const runtime::State& a = *state;
        const runtime::State& b = *again;
        fuzz::check(a.nspawn_pid == b.nspawn_pid && a.nspawn_start_time == b.nspawn_start_time &&
                        a.cgroup == b.cgroup && a.cgroup_v1 == b.cgroup_v1 &&
                        a.cgroup_devices == b.cgroup_devices &&
                        a.under_systemd == b.under_systemd && a.started == b.started &&
                        a.unenforced_controllers == b.unenforced_controllers,
                    "state fields do not read back equal", text);
        if (!a.network.empty())
            fuzz::check(a.network == b.network, "network does not read back equal", text);
        if (a.exec.recorded())
            fuzz::check(a.exec == b.exec, "exec confinement does not read back equal", text);
    });
    return 0;
}
