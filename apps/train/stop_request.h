#pragma once
/// Stop requests: a flag that request_stop() (declared in trainer.h; signal handlers call it) sets and a run
/// polls, with the signal that asked.

namespace ag::app {

/// Returns true when a stop has been requested since the last StopRequestScope ended.
bool stop_requested();

/// Returns the signal that asked for the stop, or 0 when none was named.
int stop_signal();

/// Clears a stop request when destroyed, however the run that honours it ends: a request that arrives before
/// the run starts (a signal during start-up) is honoured, and one honoured is not carried into the next run.
class StopRequestScope {
 public:
  StopRequestScope() = default;
  StopRequestScope(const StopRequestScope&) = delete;
  StopRequestScope& operator=(const StopRequestScope&) = delete;
  ~StopRequestScope();
};

}  // namespace ag::app
