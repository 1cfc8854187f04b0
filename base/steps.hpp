// The executor of a plan: steps carried out in order, each with its undo. When a step fails, or
// the Steps object goes out of scope before commit(), the undos of the steps that ran are run in
// reverse order, so a failure at step k undoes exactly steps k-1 … 1. One mechanism instead of
// undo calls placed by hand on every error path.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/fault.hpp"

namespace volt {

class Steps {
  public:
    using Undo = std::function<void()>;
    // Called before each step with its name; an error it returns fails that step (the step does
    // not run). For fault-injection tests (base/fault.hpp); absent in production.
    using Hook = fault::Hook;

    explicit Steps(Hook before_step = {}) : before_(std::move(before_step)) {}
    Steps(const Steps&) = delete;
    Steps& operator=(const Steps&) = delete;
    Steps(Steps&&) = default;
    Steps& operator=(Steps&&) = delete;
    ~Steps() { rollback(); }

    // Runs `run`; on success records `undo` (which may be empty: nothing to undo). On failure
    // undoes everything that ran before and returns run's error as it is (the step adds its own
    // context).
    Status run(std::string_view name, const std::function<Status()>& run, Undo undo = {});
    // The same for a step that yields a value; undo receives it.
    template <class T>
    Result<T> run(std::string_view name, const std::function<Result<T>()>& run,
                  std::function<void(const T&)> undo = {}) {
        if (auto st = enter(name); !st)
            return std::move(st).error();
        auto r = run();
        if (!r) {
            rollback();
            return std::move(r).error();
        }
        if (undo)
            undos_.push_back({std::string(name), [undo, v = r.value()] { undo(v); }});
        else
            undos_.push_back({std::string(name), {}});
        return r;
    }
    // Records an undo for something already done outside run().
    void done(std::string_view name, Undo undo) {
        undos_.push_back({std::string(name), std::move(undo)});
    }

    // Keeps everything: nothing is undone any more.
    void commit() { undos_.clear(); }
    // Undoes what ran, last first, now.
    void rollback();

    // The steps that ran and would be undone, in order (for tests and debug logs).
    std::vector<std::string> names() const;

  private:
    Status enter(std::string_view name);
    struct Done {
        std::string name;
        Undo undo;
    };
    Hook before_;
    std::vector<Done> undos_;
};

}  // namespace volt
