#pragma once
/// Where a training step's time goes, op by op: when profiling is on, the engine times each node's backward
/// rule (named "backward <op> <output shape>"), nn::Sequential times each layer's forward ("forward
/// <layer>"), and code of your own can time any scope (ProfileScope). Off by default, at the cost of one
/// flag test per node; on, a clock read before and after each timed call.
///
///   ag::set_profiling(true);
///   for (int i = 0; i < 100; ++i) train_step();
///   ag::set_profiling(false);
///   for (const auto& e : ag::profile_entries()) fmt::print("{} {} {}\n", e.name, e.calls, e.seconds);
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ag {

/// One timed name: how many calls, and their total wall time.
struct ProfileEntry {
  std::string name;
  std::int64_t calls = 0;
  double seconds = 0;
};

/// Turns the timing on or off (for all threads; off by default).
void set_profiling(bool on);
/// Returns whether the timing is on.
bool profiling();
/// Adds one call of `name` that took `seconds` (thread-safe).
void profile_add(const std::string& name, double seconds);
/// Returns every name timed since the last reset_profile(), the most total time first.
std::vector<ProfileEntry> profile_entries();
/// Forgets every entry.
void reset_profile();

/// Times its own lifetime into the entry `name` when profiling is on at construction; otherwise does
/// nothing (and `name` is not built: pass a function returning it).
class ProfileScope {
 public:
  /// Starts timing when profiling is on; make_name() -> std::string is called only then.
  template <class MakeName>
  explicit ProfileScope(MakeName&& make_name) {
    if (profiling()) {
      name_ = make_name();
      active_ = true;
      start_ = std::chrono::steady_clock::now();
    }
  }
  /// Records nothing after all (e.g. the timed attempt did not happen).
  void dismiss() { active_ = false; }
  ~ProfileScope() {
    if (active_) profile_add(name_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  bool active_ = false;
  std::string name_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ag
