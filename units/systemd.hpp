// A client of the host's systemd (org.freedesktop.systemd1) and machined
// (org.freedesktop.machine1) over sd-bus: the calls `systemctl` and `machinectl` would make,
// without running them or parsing their text.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

typedef struct sd_bus sd_bus;

namespace volt::units {

struct LibSystemd;

// What systemd reports about a unit (org.freedesktop.systemd1.Unit and .Service properties).
struct UnitStatus {
    std::string load_state;       // loaded, not-found, bad-setting, masked …
    std::string active_state;     // active, activating, deactivating, inactive, failed, reloading
    std::string sub_state;        // the service's own: running, start, auto-restart, dead …
    std::string unit_file_state;  // enabled, disabled, … (empty for a unit without a file)
    std::string result;           // success, exit-code, signal, timeout, …
    std::uint32_t main_pid = 0;
    int exec_main_status = 0;             // exit status (or signal) of the last main process
    std::uint64_t state_change_usec = 0;  // CLOCK_REALTIME µs of the last ActiveState change

    bool known() const { return load_state != "not-found"; }
    // Anything but inactive and failed: a process of the unit may run or be about to.
    bool busy() const { return active_state != "inactive" && active_state != "failed"; }
};

// A machine registered with machined.
struct Machine {
    std::string unit;                    // the unit it runs in
    pid_t leader = 0;                    // its PID 1, as seen from the host
    std::vector<std::string> addresses;  // its IPv4 and IPv6 addresses, as text
};

class Systemd {
  public:
    // Connects to the system bus. Fails (one line) when there is none or libsystemd is missing.
    static Result<Systemd> connect();
    Systemd(Systemd&& other) noexcept;
    Systemd& operator=(Systemd&&) = delete;
    Systemd(const Systemd&) = delete;
    ~Systemd();

    // Manager.Reload: systemd reads unit files again (systemctl daemon-reload). Synchronous.
    Status reload();

    // Queues StartUnit, StopUnit or RestartUnit (mode "replace") and, when wait is true, waits
    // for the job to finish. Returns the job's result: "done" on success, else failed, canceled,
    // timeout, dependency, skipped …; "queued" when not waiting.
    Result<std::string> run_job(const std::string& method, const std::string& unit, bool wait);

    // LoadUnit, then the unit's and the service's properties.
    Result<UnitStatus> status(const std::string& unit);

    // EnableUnitFiles / DisableUnitFiles of one unit (the symlinks its [Install] section asks
    // for). Call reload() afterwards, as systemctl does.
    Status enable(const std::string& unit);
    Status disable(const std::string& unit);
    // ResetFailedUnit: forget that the unit failed, so that a removed one is unloaded.
    Status reset_failed(const std::string& unit);

    // machined's record of a machine; nullopt when it is not registered (or machined is absent).
    Result<std::optional<Machine>> machine(const std::string& name);

  private:
    Systemd(const LibSystemd* lib, sd_bus* bus) : lib_(lib), bus_(bus) {}
    Status change_unit_files(const std::string& unit, bool enable);
    const LibSystemd* lib_;
    sd_bus* bus_;
};

}  // namespace volt::units
