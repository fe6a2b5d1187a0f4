#pragma once
/// Internal to the core (tensor.cpp, backward.cpp): a leaf's post-accumulate-grad hooks and the count a
/// backward pass keeps of the leaf's uses, so that the hooks run once its gradient is complete.
#include <cstdint>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

struct LeafHooks {
  std::vector<std::pair<HookId, PostAccumulateGradHook>> post_accumulate;
  // The state of the backward pass going through the leaf, used by backward.cpp alone and reset when the pass
  // ends (also when it throws).
  std::uint64_t backward_pass = 0;  ///< The pass under way that reached the leaf; 0 for none.
  int uses_left = 0;                ///< Uses in that pass's graph whose gradient has not arrived yet.
};

}  // namespace ag
