// The container's network for --network private and bridges, built by boot before it execs
// systemd-nspawn: lease, bridge, persistent network namespace, veth pair, addresses and routes,
// nftables NAT and port forwards, resolv.conf. prepare() gathers the host's facts and plans
// (runtime/plan/network_plan.hpp); build() carries the plan out, each step with its undo.
// Everything made is named after the container, so teardown and the collection of a crashed
// run's leftovers need no recorded state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fs.hpp"
#include "base/steps.hpp"
#include "netlink/nft.hpp"
#include "runtime/plan/network_plan.hpp"
#include "runtime/plan/paths.hpp"
#include "runtime/plan/spec.hpp"
#include "runtime/store/state.hpp"

namespace volt::runtime {

// Whether boot builds a network for this spec (private or a bridge).
bool builds_network(const Spec& spec);

// One network set-up, holding the host-wide network lock from prepare() until it is destroyed.
class NetworkSetup {
  public:
    // Takes the lock, collects what crashed runs of other containers left, reads the host's
    // facts, leases the address and plans (plan_network); makes nothing yet. plan() is what boot
    // records in its state before build(), so that a crash in build() is collected by the next
    // boot or delete.
    // nft_fd, when not -1, is an nftables socket the caller's parent opened and keeps open past
    // this process's end (boot's parent, see netlink::Nftables::adopt); the set-up talks over a
    // copy of it instead of a socket of its own.
    static Result<NetworkSetup> prepare(const Paths& paths, const Spec& spec, int nft_fd = -1);
    const NetworkState& plan() const { return state_; }
    const NetworkPlan& network_plan() const { return plan_; }

    // The steps of build(), in order.
    static const std::vector<std::string_view>& step_names();

    // Carries the plan out and returns an fd of the container's network namespace. after_step
    // (boot's timing log, crash tests) is called with the name of each finished step;
    // before_step (fault injection) may fail a step before it runs. On failure every step that
    // ran is undone, last first: the veth deleted, the rules removed, the namespace removed, the
    // bridge removed if this build made it and nothing else is attached (resolv.conf is last).
    // The host-wide sysctls (ip_forward, route_localnet) stay, and so does the lease (released
    // at delete). teardown_network() remains the path for what a crash leaves.
    Result<UniqueFd> build(const std::function<void(std::string_view step)>& after_step = {},
                           Steps::Hook before_step = {});

    // Where build() writes resolv.conf: the root the fd refers to (an overlay container's
    // merged tree, not yet mounted anywhere) instead of the plan's directory. Not owned.
    void set_root(int fd) { root_fd_ = fd; }

  private:
    NetworkSetup(fs::FileLock lock, netlink::Nftables nft, NetworkPlan plan);
    int root_fd_ = -1;
    fs::FileLock lock_;
    std::optional<netlink::Nftables> nft_;  // engaged: one socket for the collection and build
    NetworkPlan plan_;
    NetworkState state_;
};

// Removes the container's link, network namespace and nftables rules (everything but its lease).
// Nothing there is success.
Status teardown_network(const Paths& paths, const std::string& name);
// Releases the container's lease (at delete).
Status release_lease(const Paths& paths, const std::string& name);

}  // namespace volt::runtime
