#include "base/fault.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "base/fd.hpp"

namespace volt::fault {

Hook prefixed(const Hook& hook, std::string prefix) {
    if (!hook)
        return {};
    return [hook, prefix = std::move(prefix)](std::string_view point) {
        return hook(prefix + std::string(point));
    };
}

Hook kill_at(std::string kill_point, std::string trace_file) {
    if (kill_point.empty() && trace_file.empty())
        return {};
    return [kill_point = std::move(kill_point),
            trace_file = std::move(trace_file)](std::string_view point) -> Status {
        if (!trace_file.empty()) {
            int fd = ::open(trace_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0)
                return Error::from_errno("VOLT_FAULT_TRACE: open " + trace_file);
            UniqueFd owner(fd);
            // One write of the whole line: O_APPEND keeps concurrent writers' lines whole.
            std::string line = std::string(point) + "\n";
            if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
                return Error::from_errno("VOLT_FAULT_TRACE: write " + trace_file);
        }
        if (point == kill_point) {
            ::kill(::getpid(), SIGKILL);
            ::pause();  // not reached: SIGKILL cannot be caught or ignored
        }
        return {};
    };
}

}  // namespace volt::fault
