// Stop requests: lock-free atomics, so that a signal handler may set them.
#include "apps/train/stop_request.h"

#include <atomic>

#include "apps/train/trainer.h"

namespace ag::app {
namespace {

std::atomic<bool> requested{false};
std::atomic<int> requesting_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

}  // namespace

void request_stop(int signal) {
  requesting_signal.store(signal);
  requested.store(true);
}

bool stop_requested() { return requested.load(); }

int stop_signal() { return requesting_signal.load(); }

StopRequestScope::~StopRequestScope() {
  requested.store(false);
  requesting_signal.store(0);
}

}  // namespace ag::app
