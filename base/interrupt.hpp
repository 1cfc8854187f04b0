// Interruptions of a long verb (an image import, a benchmark): while an InterruptGuard lives,
// SIGINT, SIGTERM and SIGHUP only record which of them arrived, so that the verb can remove what
// it made and fail, instead of dying with half of it left. A signal the caller ignores (nohup)
// stays ignored. The caller's handlers come back when the guard goes. One guard at a time: what
// arrived is recorded process-wide, and a new guard starts from none.
#pragma once

#include <csignal>
#include <iterator>

namespace volt {

class InterruptGuard {
  public:
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

    // The signal that arrived since the guard was made, or 0; its name ("SIGINT").
    static int signal() { return received_; }
    static const char* signal_name();
    // For code that polls it between steps (rootfs::extract_archive, the bench's peers).
    static const volatile std::sig_atomic_t* flag() { return &received_; }

  private:
    static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
    static volatile std::sig_atomic_t received_;
    struct sigaction old_[std::size(kSignals)]{};
};

}  // namespace volt
