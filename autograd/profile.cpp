#include "autograd/profile.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace ag {

namespace {

std::atomic<bool> enabled{false};

struct Totals {
  std::mutex mutex;
  std::map<std::string, ProfileEntry, std::less<>> entries;
};

Totals& totals() {
  static Totals t;
  return t;
}

}  // namespace

void set_profiling(bool on) { enabled.store(on, std::memory_order_relaxed); }

bool profiling() { return enabled.load(std::memory_order_relaxed); }

void profile_add(const std::string& name, double seconds) {
  Totals& t = totals();
  const std::lock_guard lock(t.mutex);
  auto it = t.entries.find(name);
  if (it == t.entries.end()) it = t.entries.emplace(name, ProfileEntry{name, 0, 0}).first;
  it->second.calls += 1;
  it->second.seconds += seconds;
}

std::vector<ProfileEntry> profile_entries() {
  Totals& t = totals();
  std::vector<ProfileEntry> out;
  {
    const std::lock_guard lock(t.mutex);
    for (const auto& [name, entry] : t.entries) out.push_back(entry);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProfileEntry& a, const ProfileEntry& b) { return a.seconds > b.seconds; });
  return out;
}

void reset_profile() {
  Totals& t = totals();
  const std::lock_guard lock(t.mutex);
  t.entries.clear();
}

}  // namespace ag
