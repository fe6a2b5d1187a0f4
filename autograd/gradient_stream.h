#pragma once
/// Gradient streams: a leaf's gradient handed over block by block by the backward rule that computes it,
/// instead of being stored and accumulated into .grad. An optimizer uses one to update a weight while each
/// block of its gradient is in the L1 cache, without the gradient ever being stored
/// (nn::Optimizer::update_in_backward). Rules that can produce a weight gradient in blocks ask stream_for;
/// docs/extending.md shows how.
#include <cstdint>
#include <memory>

#include "autograd/tensor.h"

namespace ag {

/// Takes one leaf's gradient in blocks during backward (Tensor::set_gradient_stream).
class GradientStream {
 public:
  virtual ~GradientStream() = default;
  /// Called on the backward pass's thread by stream_for, before the first block of the pass. May throw.
  virtual void begin() = 0;
  /// Takes elements [begin, end) of the gradient (flat, row-major), `values` pointing at element `begin`, in the
  /// leaf's dtype. Called from the kernel threads, for disjoint ranges that cover the leaf once, possibly after
  /// the rule computing them has returned (but before the backward pass ends). Must not throw.
  virtual void take(std::int64_t begin, std::int64_t end, const void* values) = 0;
};

/// A leaf's stream, and the count the backward pass keeps of the leaf's uses.
struct GradientStreamSlot {
  std::shared_ptr<GradientStream> stream;
  // The state of the backward pass going through the leaf, used by backward.cpp alone and reset when the pass
  // ends (also when it throws).
  std::uint64_t backward_pass = 0;  ///< The pass under way that reached the leaf; 0 for none.
  int uses = 0;                     ///< The leaf's uses in that pass's graph.
};

/// For a backward rule about to compute the gradient of `leaf`: returns the leaf's stream, after calling its
/// begin(), when the rule may hand it the gradient in blocks instead of returning it; null otherwise. The rule
/// then returns an undefined gradient for the leaf, and must have finished reading the leaf's values before
/// the first block (a stream may update them), nor read them after its call (blocks may still be taken until
/// the pass ends: detail::weight_gradient_by_rows with 2 threads). It may when the leaf has a stream, is used
/// once in the graph of the pass under way (a weight shared by several ops has its gradients summed first, as
/// usual), has no .grad yet, the pass accumulates into .grad (not ag::grad) and anomaly mode is off (it
/// checks whole gradients).
GradientStream* stream_for(const Tensor& leaf);

}  // namespace ag
