#pragma once
/// Internal to the core (tensor.cpp, backward.cpp): a leaf's post-accumulate-grad hooks and gradient
/// consumer, and the count a backward pass keeps of the leaf's uses, so that they get its gradient once it is
/// complete.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "autograd/gradient_consumer.h"
#include "autograd/tensor.h"

namespace ag {

struct LeafHooks {
  std::vector<std::pair<HookId, GradHook>> grad_hooks;
  std::vector<std::pair<HookId, PostAccumulateGradHook>> post_accumulate;
  std::shared_ptr<GradientConsumer> consumer;
  // The state of the backward pass going through the leaf, used by backward.cpp alone and reset when the pass
  // ends (also when it throws).
  std::uint64_t backward_pass = 0;  ///< The pass under way that reached the leaf; 0 for none.
  int uses = 0;                     ///< The leaf's uses in that pass's graph.
  int uses_left = 0;                ///< Those whose gradient has not arrived yet.
  bool sent_in_blocks = false;      ///< A rule sent the gradient to the consumer in blocks (gradient_blocks).
  Tensor pending;                   ///< The pass's gradient summed so far, before its hooks and consumer.

  /// Returns true when there is anything for a backward pass to serve.
  bool active() const { return consumer || !post_accumulate.empty() || !grad_hooks.empty(); }
  /// Resets the pass's state.
  void end_pass() {
    backward_pass = 0;
    uses = uses_left = 0;
    sent_in_blocks = false;
    pending = Tensor();
  }
};

}  // namespace ag
