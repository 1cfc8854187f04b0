#include "runtime/rootfs/libarchive.hpp"

#include <dlfcn.h>

#include <mutex>

namespace volt::rootfs {
namespace {

constexpr const char* kSoname = "libarchive.so.13";

Result<LibArchive> load() {
    // Never unloaded: the table lives as long as the process.
    void* handle = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return Error(ENOENT, std::string("cannot load ") + kSoname +
                                 " (package libarchive13), which reading archives needs: " +
                                 (why ? why : "unknown error"));
    }
    LibArchive lib;
    const char* missing = nullptr;
#define VOLT_RESOLVE(name)                                                   \
    lib.name = reinterpret_cast<decltype(lib.name)>(::dlsym(handle, #name)); \
    if (!lib.name && !missing)                                               \
        missing = #name;
    VOLT_LIBARCHIVE_FUNCTIONS(VOLT_RESOLVE)
#undef VOLT_RESOLVE
    if (missing)
        return Error(ENOSYS,
                     std::string(kSoname) + " has no " + missing + " (too old a libarchive)");
    return lib;
}

}  // namespace

Result<const LibArchive*> libarchive() {
    static std::once_flag once;
    static Result<LibArchive> loaded = Error(0, "");
    std::call_once(once, [] { loaded = load(); });
    if (!loaded)
        return loaded.error();
    return &loaded.value();
}

}  // namespace volt::rootfs
