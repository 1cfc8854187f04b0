// Persistent network namespaces: a namespace bind-mounted on a file outlives the processes in it,
// so it can be prepared before systemd-nspawn starts and handed to it by path.
#pragma once

#include <sched.h>

#include <string>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace volt::netlink {

// Switches the calling thread into a network namespace and back when destroyed.
class NetnsGuard {
  public:
    static Result<NetnsGuard> enter(int netns_fd);
    NetnsGuard(NetnsGuard&&) = default;
    ~NetnsGuard();

  private:
    explicit NetnsGuard(UniqueFd original) : original_(std::move(original)) {}
    UniqueFd original_;
};

// A new network namespace bind-mounted on path (the file is created; an existing mount there is
// EEXIST). `inside` runs in the new namespace before the thread returns to its own, to open
// sockets there without a second switch. Returns an fd of the namespace.
template <class F>
Result<UniqueFd> create_netns(const std::string& path, F&& inside);
Result<UniqueFd> create_netns(const std::string& path);

// Unmounts and removes a namespace made by create_netns; a missing path is success.
Status remove_netns(const std::string& path);

// Whether path is a mounted network namespace.
bool is_netns(const std::string& path);

// An fd of the calling thread's network namespace.
Result<UniqueFd> open_current_netns();

namespace detail {
// Unshares into a fresh namespace and bind-mounts it on path; the thread stays inside. Returns the
// fd of the namespace the thread was in.
Result<UniqueFd> unshare_and_mount(const std::string& path);
}  // namespace detail

template <class F>
Result<UniqueFd> create_netns(const std::string& path, F&& inside) {
    VOLT_TRY_ASSIGN(UniqueFd original, detail::unshare_and_mount(path));
    auto self = open_current_netns();
    Status done = self ? Status(inside()) : Status(Error(self.error()));
    if (::setns(original.get(), 0) < 0)
        return Error::from_errno("returning to the original network namespace");
    if (!done) {
        (void)remove_netns(path);
        return std::move(done).error();
    }
    return self;
}

}  // namespace volt::netlink
