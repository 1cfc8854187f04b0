// The lease file (netlink/ipam.cpp): Leases::load never throws; an error is one line; what loads
// is saved and loads back with the same subnet and leases; leasing a name it does not hold and
// releasing it leaves the leases as they were.
#include <unistd.h>

#include <cstdio>

#include "base/log.hpp"
#include "netlink/ipam.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace volt;

namespace {

// One file per fuzzing process, on tmpfs where there is one: save() syncs it.
std::string lease_file() {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/volt-fuzz-leases." + std::to_string(::getpid());
}

void write(const std::string& path, std::string_view text) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    fuzz::check(f != nullptr, "cannot write the lease file", path);
    fuzz::check(std::fwrite(text.data(), 1, text.size(), f) == text.size(), "short write", path);
    std::fclose(f);
}

struct Removed {
    std::string path;
    ~Removed() { ::unlink(path.c_str()); }
};

// No holder read from a file has a space in its name.
constexpr const char* kNewHolder = "fuzz new holder";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Removed file{lease_file()};
    log::set_level(log::Level::error);  // skipped lines are warned of, once per input
    fuzz::guard([&] {
        write(file.path, fuzz::text_of(data, size));
        auto leases = netlink::Leases::load(file.path);
        if (!leases) {
            fuzz::check_one_line(leases.error());
            return;
        }
        const auto holders = leases->holders();
        const auto subnet = leases->subnet();
        if (auto saved = leases->save(); !saved)
            fuzz::fail("save failed", saved.error().describe());
        auto again = netlink::Leases::load(file.path);
        fuzz::check(static_cast<bool>(again), "a saved lease file does not load",
                    again ? "" : again.error().describe());
        fuzz::check(again->holders() == holders && again->subnet() == subnet,
                    "the leases do not load back as saved");
        if (subnet) {
            auto added = again->lease(kNewHolder);
            if (!added)
                fuzz::check_one_line(added.error());
            else
                fuzz::check(again->release(kNewHolder) && again->holders() == holders,
                            "lease and release do not leave the leases as they were");
        }
    });
    return 0;
}
