#include "units/libsystemd.hpp"

#include <dlfcn.h>

#include <mutex>

namespace volt::units {
namespace {

constexpr const char* kSoname = "libsystemd.so.0";

Result<LibSystemd> load() {
    // Never unloaded: the table lives as long as the process.
    void* handle = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return Error(ENOENT, std::string("cannot load ") + kSoname +
                                 " (package libsystemd0): " + (why ? why : "unknown error"));
    }
    LibSystemd lib;
    const char* missing = nullptr;
#define VOLT_RESOLVE(name)                                                   \
    lib.name = reinterpret_cast<decltype(lib.name)>(::dlsym(handle, #name)); \
    if (!lib.name && !missing)                                               \
        missing = #name;
    VOLT_LIBSYSTEMD_FUNCTIONS(VOLT_RESOLVE)
#undef VOLT_RESOLVE
    if (missing)
        return Error(ENOSYS, std::string(kSoname) + " has no " + missing + " (too old a systemd)");
    return lib;
}

}  // namespace

Result<const LibSystemd*> libsystemd() {
    static std::once_flag once;
    static Result<LibSystemd> loaded = Error(0, "");
    std::call_once(once, [] { loaded = load(); });
    if (!loaded)
        return loaded.error();
    return &loaded.value();
}

}  // namespace volt::units
