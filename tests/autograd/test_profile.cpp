// The engine's profiling (autograd/profile.h): off by default, on it times each backward rule by op and
// output shape, and scopes of one's own.
#include <doctest/doctest.h>

#include <autograd/autograd.h>

#include <algorithm>
#include <string>

using ag::Tensor;

namespace {

/// Returns the entry named `name`, or one with 0 calls.
ag::ProfileEntry entry(const std::string& name) {
  const auto entries = ag::profile_entries();
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
  return it == entries.end() ? ag::ProfileEntry{name, 0, 0} : *it;
}

/// Resets the entries and turns profiling off on scope exit, so that no test leaves it on.
struct ProfilingOff {
  ProfilingOff() { ag::reset_profile(); }
  ~ProfilingOff() {
    ag::set_profiling(false);
    ag::reset_profile();
  }
};

}  // namespace

TEST_CASE("profiling is off by default and records nothing then") {
  ProfilingOff guard;
  CHECK_FALSE(ag::profiling());
  Tensor x = ag::ones({3});
  x.requires_grad_();
  ag::sum(ag::relu(x)).backward();
  CHECK(ag::profile_entries().empty());
}

TEST_CASE("with profiling on, each backward rule is timed under its op and output shape") {
  ProfilingOff guard;
  ag::set_profiling(true);
  Tensor x = ag::ones({2, 3});
  x.requires_grad_();
  for (int step = 0; step < 2; ++step) ag::sum(ag::relu(ag::mul(x, 2.0))).backward();
  ag::set_profiling(false);
  const auto relu = entry("backward relu [2,3]");
  CHECK(relu.calls == 2);
  CHECK(relu.seconds >= 0);
  CHECK(entry("backward mul_scalar [2,3]").calls == 2);
  CHECK(entry("backward sum []").calls == 2);
  // Sorted by total time, largest first.
  const auto entries = ag::profile_entries();
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].seconds >= entries[i].seconds);
  ag::reset_profile();
  CHECK(ag::profile_entries().empty());
}

TEST_CASE("ProfileScope times its scope when profiling is on, builds no name when off, and can be dismissed") {
  ProfilingOff guard;
  int names_built = 0;
  const auto name = [&] {
    ++names_built;
    return std::string("my scope");
  };
  { const ag::ProfileScope off(name); }
  CHECK(names_built == 0);
  ag::set_profiling(true);
  { const ag::ProfileScope on(name); }
  {
    ag::ProfileScope dismissed(name);
    dismissed.dismiss();
  }
  ag::set_profiling(false);
  CHECK(names_built == 2);
  CHECK(entry("my scope").calls == 1);
}
