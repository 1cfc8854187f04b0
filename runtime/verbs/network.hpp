// The container's network for --network private and bridges, built by boot before it execs
// systemd-nspawn: lease, bridge, persistent network namespace, veth pair, addresses and routes,
// nftables NAT and port forwards, resolv.conf. Everything made is named after the container, so
// teardown and the collection of a crashed run's leftovers need no recorded state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"

namespace volt::runtime {

// Whether boot builds a network for this spec (private or a bridge).
bool builds_network(const Spec& spec);

// One network set-up, holding the host-wide network lock from prepare() until it is destroyed.
class NetworkSetup {
  public:
    // Takes the lock, collects what crashed runs of other containers left, leases the address
    // and decides every name; makes nothing yet. The plan is what boot records in its state
    // before build(), so that a crash in build() is collected by the next boot or delete.
    static Result<NetworkSetup> prepare(const Paths& paths, const Spec& spec);
    const NetworkState& plan() const { return plan_; }

    // Makes it all and returns an fd of the container's network namespace. after_step (for
    // tests) is called with the name of each finished step. On failure, what was made is left
    // for teardown_network(), which the caller runs.
    Result<UniqueFd> build(const std::function<void(std::string_view step)>& after_step = {});

  private:
    NetworkSetup(fs::FileLock lock, const Paths& paths, const Spec& spec)
        : lock_(std::move(lock)), paths_(paths), spec_(spec) {}
    fs::FileLock lock_;
    Paths paths_;
    Spec spec_;
    NetworkState plan_;
    int prefix_ = 0;
};

// Removes the container's link, network namespace and nftables rules (everything but its lease).
// Nothing there is success.
Status teardown_network(const Paths& paths, const std::string& name);
// Releases the container's lease (at delete).
Status release_lease(const Paths& paths, const std::string& name);

// The nameservers for a container: the spec's, else the host's non-loopback ones, else 1.1.1.1
// and 1.0.0.1. resolv_conf is the text of the host's resolv.conf.
std::vector<std::string> nameservers(const Spec& spec, std::string_view resolv_conf);

}  // namespace volt::runtime
