#pragma once
/// Gradient consumers: a leaf's gradient of each backward pass handed to code that uses it element by element
/// (an optimizer's update), instead of being added to .grad, while it is still in the cache; and, for op
/// authors, the one call a backward rule makes to send a gradient it computes in blocks straight to it.
#include <cstdint>
#include <utility>

#include "autograd/tensor.h"

namespace ag {

/// Takes a leaf's complete gradient of each backward pass in place of .grad (Tensor::set_gradient_consumer).
class GradientConsumer {
 public:
  virtual ~GradientConsumer() = default;
  /// Tells the consumer that `leaf`'s gradient of this pass is coming: called on the backward pass's thread,
  /// inside its no-grad scope, before the first consume() of the pass. May throw.
  virtual void begin(const Tensor& leaf) = 0;
  /// Takes elements [begin, end) of `leaf`'s gradient (flat, row-major), `values` pointing at element `begin`
  /// in the leaf's dtype. A pass's calls cover the leaf once, in disjoint blocks (or one call for the whole),
  /// possibly from several kernel threads at once: each element's use must not depend on the block it comes
  /// in. Must not throw.
  virtual void consume(const Tensor& leaf, std::int64_t begin, std::int64_t end, const void* values) = 0;
};

/// Where a backward rule sends the gradient of one input that it computes in blocks (gradient_blocks).
class GradientBlocks {
 public:
  /// Creates an empty destination: the rule returns the gradient as usual.
  GradientBlocks() = default;
  /// Creates the destination of `leaf`'s gradient: its consumer.
  GradientBlocks(GradientConsumer* consumer, Tensor leaf) : consumer_(consumer), leaf_(std::move(leaf)) {}
  /// Returns true when the rule sends the gradient here and returns an undefined gradient for the input.
  explicit operator bool() const { return consumer_ != nullptr; }
  /// Sends elements [begin, end) of the gradient, `values` pointing at element `begin` (from any thread).
  void send(std::int64_t begin, std::int64_t end, const void* values) const {
    consumer_->consume(leaf_, begin, end, values);
  }

 private:
  GradientConsumer* consumer_ = nullptr;
  Tensor leaf_;
};

/// For a backward rule that computes the gradient of `input` in blocks: returns where to send the blocks
/// instead of returning the gradient when backward allows it (the input is a leaf with a gradient consumer,
/// used once in the graph of the pass under way, with no .grad to add to, outside anomaly mode and ag::grad),
/// else an empty destination; with one, the consumer's begin() has been called. The consumer may change the
/// input's values (an optimizer updates them), so the rule sends the first block only after it has finished
/// reading them. docs/extending.md shows one.
GradientBlocks gradient_blocks(const Tensor& input);

}  // namespace ag
