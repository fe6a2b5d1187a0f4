#pragma once
/// The optimizer interface: updates parameters in place from their accumulated gradients.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace ag::nn {

class Optimizer {
 public:
  /// Takes the parameters to update (handles: updates reach the module's tensors) and the learning rate.
  Optimizer(std::vector<Parameter> parameters, double learning_rate);
  /// Removes the gradient consumers of update_in_backward from the parameters.
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Applies one update to every parameter that has a gradient, counting the step first (unless backward
  /// already counted it: update_in_backward). The parameters' elements go in blocks spread over the kernel
  /// threads, all parameters in one loop.
  void step();
  /// While `enabled`, each parameter is updated during backward as soon as its gradient is complete, while
  /// the gradient is still in the cache: the optimizer is the parameters' gradient consumer
  /// (autograd/gradient_consumer.h), which takes the gradient instead of .grad, whole or in blocks as a rule
  /// computes it. step() updates the parameters backward did not reach. The first such update of a backward
  /// pass counts the step. The results are the same bits as step()'s. Call step() after every backward. Not
  /// for gradients summed over several backward passes, nor for an update that needs every gradient first
  /// (clipping by the global norm).
  void update_in_backward(bool enabled = true);
  /// Returns true while updating in backward.
  bool updates_in_backward() const { return !consumers_.empty(); }
  /// While `enabled`, every update checks the values it wrote for NaN and Inf, on the thread that wrote them
  /// and while they are in its cache, instead of a pass over every parameter after the step (which would also
  /// pull each kernel thread's share of the weights across to the caller's core); clears non_finite_written().
  void watch_non_finite(bool enabled = true);
  /// Returns true when a watched update has written NaN or Inf since watch_non_finite was called.
  bool non_finite_written() const { return non_finite_written_.load(std::memory_order_relaxed); }
  /// Drops every parameter's gradient.
  void zero_grad();
  /// Returns the current learning rate.
  double learning_rate() const { return learning_rate_; }
  /// Sets the learning rate (a schedule calls this once per epoch).
  void set_learning_rate(double lr) { learning_rate_ = lr; }
  /// Returns the number of steps taken.
  std::int64_t steps() const { return steps_; }
  /// Restores the step count (from a checkpoint).
  void set_steps(std::int64_t steps) { steps_ = steps; }
  /// Returns the optimizer's state tensors by name (e.g. "c1.weight.velocity"), for checkpoints.
  /// Writing into them (same shapes) restores a state.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  /// Returns the parameters being optimised.
  const std::vector<Parameter>& parameters() const { return parameters_; }

 protected:
  /// Updates elements [begin, end) of parameter `index` (flat, row-major) from their gradient: `values` and
  /// `grad` point at element begin's value and gradient, in the parameter's dtype. Called concurrently for
  /// disjoint ranges, possibly on the kernel threads, and must not throw; an element's update must not depend on
  /// the range it comes in, so that results are the same for any thread count and with update_in_backward.
  virtual void update(std::size_t index, void* values, const void* grad, std::int64_t begin, std::int64_t end) = 0;
  /// update() of the same elements, then returns false when a value it wrote is NaN or Inf (the check of
  /// watch_non_finite). The default scans the written values after update(); an optimizer may override it to
  /// check each value in its own loop as it writes it (ag::FiniteScan), which saves reading them again.
  virtual bool update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                                std::int64_t end);
  /// Called once per step, after the count and before any update: for constants of the step.
  virtual void begin_step() {}
  /// Called once per step for each parameter `index` about to be updated, on the calling thread, before any
  /// update() of it: for an optimizer to open its own state of that parameter for writing (e.g. its moments),
  /// once rather than in every block.
  virtual void open_state(std::size_t /*index*/) {}
  /// Returns the rough cost of updating one element, in element operations (for the threading decision).
  virtual std::int64_t cost_per_element() const { return 4; }

  std::vector<Parameter> parameters_;
  double learning_rate_;
  std::int64_t steps_ = 0;

 private:
  /// One block of one parameter's elements, the unit of work of step().
  struct Block {
    std::size_t index;
    std::int64_t begin, end;
  };

  class ParameterConsumer;

  /// Counts a step and sets its constants.
  void count_step();
  /// Prepares parameter `index` for updates: its values for writing (a write of the leaf, counted by its
  /// version; on the calling thread, inside a no-grad scope).
  void open_for_update(std::size_t index);
  /// Prepares parameter `index` for updates in backward (its consumer's begin): counts the step at the first.
  void begin_in_backward(std::size_t index);
  /// update() of elements [begin, end) of parameter `index` (values and grad at element begin), then, when
  /// watching (watch_non_finite), the check of the values written. On the thread running the block.
  void update_block(std::size_t index, std::byte* values, const std::byte* grad, std::int64_t begin, std::int64_t end);
  /// Updates elements [begin, end) of parameter `index` from `grad` (element begin's gradient) during backward
  /// (update_in_backward), in blocks spread over the kernel threads when they are worth it.
  void consume(std::size_t index, std::int64_t begin, std::int64_t end, const void* grad);

  std::vector<Block> blocks_;  // kept between steps, so that a step allocates nothing
  std::vector<Tensor> grads_;
  std::vector<std::byte*> values_;  // each parameter's values, opened for writing by open_for_update
  std::vector<std::shared_ptr<ParameterConsumer>> consumers_;  // one per parameter while updating in backward
  bool counted_in_backward_ = false;  // an update in backward counted the coming step() already
  bool watch_non_finite_ = false;
  std::atomic<bool> non_finite_written_{false};  // set by any thread's update_block, read after the step
};

}  // namespace ag::nn
