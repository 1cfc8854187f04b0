#include "base/steps.hpp"

namespace volt {

Status Steps::enter(std::string_view name) {
    if (!before_)
        return {};
    if (auto st = before_(name); !st) {
        rollback();
        return st;
    }
    return {};
}

Status Steps::run(std::string_view name, const std::function<Status()>& run, Undo undo) {
    VOLT_TRY(enter(name));
    if (auto st = run(); !st) {
        rollback();
        return st;
    }
    undos_.push_back({std::string(name), std::move(undo)});
    return {};
}

void Steps::rollback() {
    while (!undos_.empty()) {
        Done d = std::move(undos_.back());
        undos_.pop_back();
        if (d.undo)
            d.undo();
    }
}

std::vector<std::string> Steps::names() const {
    std::vector<std::string> out;
    for (const auto& d : undos_)
        out.push_back(d.name);
    return out;
}

}  // namespace volt
