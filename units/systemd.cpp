#include "units/systemd.hpp"

#include <arpa/inet.h>

#include <cstring>
#include <functional>
#include <map>

#include "units/libsystemd.hpp"

namespace volt::units {
namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr const char* kMachined = "org.freedesktop.machine1";
constexpr const char* kMachinedPath = "/org/freedesktop/machine1";
constexpr const char* kMachineManager = "org.freedesktop.machine1.Manager";

// An sd_bus_error that frees itself; describe() gives D-Bus's own message.
struct BusError {
    const LibSystemd* lib;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    ~BusError() { lib->sd_bus_error_free(&e); }
    sd_bus_error* operator&() { return &e; }
    bool is(const char* name) const { return lib->sd_bus_error_has_name(&e, name) > 0; }
    Error error(int r, const std::string& what) const {
        return Error(-r, what + ": " + (e.message ? e.message : std::strerror(-r)));
    }
};

// An owned sd_bus_message*.
struct Message {
    const LibSystemd* lib;
    sd_bus_message* m = nullptr;
    ~Message() { lib->sd_bus_message_unref(m); }
    sd_bus_message** operator&() { return &m; }
    operator sd_bus_message*() const { return m; }  // NOLINT: passes straight to sd-bus
};

Error parse_error(int r, const std::string& what) {
    return Error(-r, "reading the reply to " + what + ": " + std::strerror(-r));
}

// Reads a Properties.GetAll reply (a{sv}). For each key in `wanted`, its reader reads the
// variant; every other value is skipped.
using PropertyReader = std::function<int(sd_bus_message*)>;
Status read_properties(const LibSystemd* lib, sd_bus_message* m, const std::string& what,
                       const std::map<std::string, PropertyReader>& wanted) {
    int r = lib->sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
    if (r < 0)
        return parse_error(r, what);
    while ((r = lib->sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
        const char* key = nullptr;
        if ((r = lib->sd_bus_message_read(m, "s", &key)) < 0)
            return parse_error(r, what);
        auto it = wanted.find(key);
        r = it != wanted.end() ? it->second(m) : lib->sd_bus_message_skip(m, "v");
        if (r < 0)
            return parse_error(r, what + " (" + key + ")");
        if ((r = lib->sd_bus_message_exit_container(m)) < 0)
            return parse_error(r, what);
    }
    if (r < 0 || (r = lib->sd_bus_message_exit_container(m)) < 0)
        return parse_error(r, what);
    return {};
}

PropertyReader string_into(const LibSystemd* lib, std::string& out) {
    return [lib, &out](sd_bus_message* m) {
        const char* s = nullptr;
        int r = lib->sd_bus_message_read(m, "v", "s", &s);
        if (r >= 0)
            out = s;
        return r;
    };
}

template <class T>
PropertyReader number_into(const LibSystemd* lib, const char* type, T& out) {
    return [lib, type, &out](sd_bus_message* m) {
        return lib->sd_bus_message_read(m, "v", type, &out);
    };
}

// The JobRemoved signals seen so far: job object path → result.
struct JobWatch {
    std::map<std::string, std::string> removed;
    const LibSystemd* lib;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* watch = static_cast<JobWatch*>(userdata);
    std::uint32_t id = 0;
    const char *path = nullptr, *unit = nullptr, *result = nullptr;
    if (watch->lib->sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0)
        watch->removed[path] = result;
    return 0;
}

}  // namespace

Result<Systemd> Systemd::connect() {
    VOLT_TRY_ASSIGN(const LibSystemd* lib, libsystemd());
    sd_bus* bus = nullptr;
    int r = lib->sd_bus_open_system(&bus);
    if (r < 0)
        return Error(-r, std::string("cannot connect to the system bus: ") + std::strerror(-r));
    return Systemd(lib, bus);
}

Systemd::Systemd(Systemd&& other) noexcept : lib_(other.lib_), bus_(other.bus_) {
    other.bus_ = nullptr;
}

Systemd::~Systemd() {
    if (bus_)
        lib_->sd_bus_flush_close_unref(bus_);
}

Status Systemd::reload() {
    BusError err{lib_};
    Message reply{lib_};
    int r = lib_->sd_bus_call_method(bus_, kSystemd, kSystemdPath, kManager, "Reload", &err, &reply,
                                     "");
    if (r < 0)
        return err.error(r, "reloading systemd");
    return {};
}

Result<std::string> Systemd::run_job(const std::string& method, const std::string& unit,
                                     bool wait) {
    const std::string what = method + " " + unit;
    JobWatch watch{{}, lib_};
    sd_bus_slot* slot = nullptr;
    if (wait) {
        // The match comes first: a job may finish before its call's reply is read. Signals that
        // arrive meanwhile are queued and dispatched by sd_bus_process below.
        int r = lib_->sd_bus_match_signal(bus_, &slot, kSystemd, kSystemdPath, kManager,
                                          "JobRemoved", on_job_removed, &watch);
        if (r < 0)
            return Error(-r, "watching systemd's jobs: " + std::string(std::strerror(-r)));
        BusError err{lib_};
        r = lib_->sd_bus_call_method(bus_, kSystemd, kSystemdPath, kManager, "Subscribe", &err,
                                     nullptr, "");
        if (r < 0 && !err.is("org.freedesktop.systemd1.AlreadySubscribed")) {
            lib_->sd_bus_slot_unref(slot);
            return err.error(r, "subscribing to systemd's signals");
        }
    }
    struct SlotOwner {
        const LibSystemd* lib;
        sd_bus_slot* slot;
        ~SlotOwner() { lib->sd_bus_slot_unref(slot); }
    } slot_owner{lib_, slot};

    BusError err{lib_};
    Message reply{lib_};
    int r = lib_->sd_bus_call_method(bus_, kSystemd, kSystemdPath, kManager, method.c_str(), &err,
                                     &reply, "ss", unit.c_str(), "replace");
    if (r < 0)
        return err.error(r, what);
    const char* job = nullptr;
    if ((r = lib_->sd_bus_message_read(reply, "o", &job)) < 0)
        return parse_error(r, what);
    if (!wait)
        return std::string("queued");
    const std::string job_path = job;
    for (;;) {
        if (auto it = watch.removed.find(job_path); it != watch.removed.end())
            return it->second;
        r = lib_->sd_bus_process(bus_, nullptr);
        if (r < 0)
            return Error(-r, "waiting for " + what + ": " + std::strerror(-r));
        if (r > 0)
            continue;
        r = lib_->sd_bus_wait(bus_, UINT64_MAX);
        if (r < 0 && r != -EINTR)
            return Error(-r, "waiting for " + what + ": " + std::strerror(-r));
    }
}

Result<UnitStatus> Systemd::status(const std::string& unit) {
    BusError err{lib_};
    Message loaded{lib_};
    int r = lib_->sd_bus_call_method(bus_, kSystemd, kSystemdPath, kManager, "LoadUnit", &err,
                                     &loaded, "s", unit.c_str());
    if (r < 0)
        return err.error(r, "loading " + unit);
    const char* path_c = nullptr;
    if ((r = lib_->sd_bus_message_read(loaded, "o", &path_c)) < 0)
        return parse_error(r, "LoadUnit");
    const std::string path = path_c;

    UnitStatus s;
    auto get_all = [&](const char* iface, const std::map<std::string, PropertyReader>& wanted) {
        BusError e{lib_};
        Message reply{lib_};
        int rr = lib_->sd_bus_call_method(bus_, kSystemd, path.c_str(),
                                          "org.freedesktop.DBus.Properties", "GetAll", &e, &reply,
                                          "s", iface);
        if (rr < 0)
            return Status(e.error(rr, "properties of " + unit));
        return read_properties(lib_, reply, "properties of " + unit, wanted);
    };
    VOLT_TRY(get_all("org.freedesktop.systemd1.Unit",
                     {{"LoadState", string_into(lib_, s.load_state)},
                      {"ActiveState", string_into(lib_, s.active_state)},
                      {"SubState", string_into(lib_, s.sub_state)},
                      {"UnitFileState", string_into(lib_, s.unit_file_state)},
                      {"StateChangeTimestamp", number_into(lib_, "t", s.state_change_usec)}}));
    if (s.load_state == "loaded")
        VOLT_TRY(get_all("org.freedesktop.systemd1.Service",
                         {{"MainPID", number_into(lib_, "u", s.main_pid)},
                          {"ExecMainStatus", number_into(lib_, "i", s.exec_main_status)},
                          {"Result", string_into(lib_, s.result)}}));
    return s;
}

Status Systemd::enable(const std::string& unit) {
    return change_unit_files(unit, true);
}

Status Systemd::disable(const std::string& unit) {
    return change_unit_files(unit, false);
}

Status Systemd::change_unit_files(const std::string& unit, bool enable) {
    const std::string what = (enable ? "enabling " : "disabling ") + unit;
    BusError err{lib_};
    Message call{lib_}, reply{lib_};
    int r = lib_->sd_bus_message_new_method_call(bus_, &call, kSystemd, kSystemdPath, kManager,
                                                 enable ? "EnableUnitFiles" : "DisableUnitFiles");
    char* units[] = {const_cast<char*>(unit.c_str()), nullptr};
    if (r >= 0)
        r = lib_->sd_bus_message_append_strv(call, units);
    // runtime=false: in /etc, for good. Enabling also forces (replaces a stale link of ours).
    if (r >= 0)
        r = enable ? lib_->sd_bus_message_append(call, "bb", 0, 1)
                   : lib_->sd_bus_message_append(call, "b", 0);
    if (r < 0)
        return Error(-r, what + ": " + std::strerror(-r));
    if ((r = lib_->sd_bus_call(bus_, call, 0, &err, &reply)) < 0)
        return err.error(r, what);
    return {};
}

Status Systemd::reset_failed(const std::string& unit) {
    BusError err{lib_};
    int r = lib_->sd_bus_call_method(bus_, kSystemd, kSystemdPath, kManager, "ResetFailedUnit",
                                     &err, nullptr, "s", unit.c_str());
    if (r < 0 && !err.is("org.freedesktop.systemd1.NoSuchUnit"))
        return err.error(r, "resetting " + unit);
    return {};
}

Result<std::optional<Machine>> Systemd::machine(const std::string& name) {
    BusError err{lib_};
    Message reply{lib_};
    int r = lib_->sd_bus_call_method(bus_, kMachined, kMachinedPath, kMachineManager, "GetMachine",
                                     &err, &reply, "s", name.c_str());
    if (r < 0) {
        if (err.is("org.freedesktop.machine1.NoSuchMachine") ||
            err.is("org.freedesktop.DBus.Error.ServiceUnknown") ||
            err.is("org.freedesktop.DBus.Error.NameHasNoOwner"))
            return std::optional<Machine>();
        return err.error(r, "asking machined for " + name);
    }
    const char* path = nullptr;
    if ((r = lib_->sd_bus_message_read(reply, "o", &path)) < 0)
        return parse_error(r, "GetMachine");

    Machine m;
    std::uint32_t leader = 0;
    BusError e2{lib_};
    Message props{lib_};
    r = lib_->sd_bus_call_method(bus_, kMachined, path, "org.freedesktop.DBus.Properties", "GetAll",
                                 &e2, &props, "s", "org.freedesktop.machine1.Machine");
    if (r < 0)
        return e2.error(r, "properties of machine " + name);
    VOLT_TRY(read_properties(
        lib_, props, "properties of machine " + name,
        {{"Unit", string_into(lib_, m.unit)}, {"Leader", number_into(lib_, "u", leader)}}));
    m.leader = static_cast<pid_t>(leader);

    BusError e3{lib_};
    Message addrs{lib_};
    r = lib_->sd_bus_call_method(bus_, kMachined, kMachinedPath, kMachineManager,
                                 "GetMachineAddresses", &e3, &addrs, "s", name.c_str());
    if (r < 0)
        return e3.error(r, "addresses of machine " + name);
    const std::string what = "GetMachineAddresses";
    if ((r = lib_->sd_bus_message_enter_container(addrs, SD_BUS_TYPE_ARRAY, "(iay)")) < 0)
        return parse_error(r, what);
    while ((r = lib_->sd_bus_message_enter_container(addrs, SD_BUS_TYPE_STRUCT, "iay")) > 0) {
        std::int32_t family = 0;
        const void* bytes = nullptr;
        size_t size = 0;
        if ((r = lib_->sd_bus_message_read(addrs, "i", &family)) < 0 ||
            (r = lib_->sd_bus_message_read_array(addrs, 'y', &bytes, &size)) < 0)
            return parse_error(r, what);
        char text[INET6_ADDRSTRLEN] = "";
        if ((family == AF_INET && size == 4) || (family == AF_INET6 && size == 16))
            if (::inet_ntop(family, bytes, text, sizeof text))
                m.addresses.emplace_back(text);
        if ((r = lib_->sd_bus_message_exit_container(addrs)) < 0)
            return parse_error(r, what);
    }
    if (r < 0)
        return parse_error(r, what);
    return std::optional<Machine>(std::move(m));
}

}  // namespace volt::units
