#include "base/interrupt.hpp"

namespace volt {

volatile std::sig_atomic_t InterruptGuard::received_ = 0;

InterruptGuard::InterruptGuard() {
    received_ = 0;
    struct sigaction act {};
    act.sa_handler = [](int sig) { received_ = sig; };
    sigemptyset(&act.sa_mask);
    for (std::size_t i = 0; i < std::size(kSignals); ++i) {
        ::sigaction(kSignals[i], nullptr, &old_[i]);
        if (old_[i].sa_handler != SIG_IGN)
            ::sigaction(kSignals[i], &act, nullptr);
    }
}

InterruptGuard::~InterruptGuard() {
    for (std::size_t i = 0; i < std::size(kSignals); ++i)
        ::sigaction(kSignals[i], &old_[i], nullptr);
}

const char* InterruptGuard::signal_name() {
    switch (received_) {
        case SIGINT:
            return "SIGINT";
        case SIGTERM:
            return "SIGTERM";
        case SIGHUP:
            return "SIGHUP";
        default:
            return "no signal";
    }
}

}  // namespace volt
