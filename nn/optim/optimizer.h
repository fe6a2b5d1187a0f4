#pragma once
/// The optimizer interface: updates parameters in place from their accumulated gradients.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"

namespace ag::nn {

class Optimizer {
 public:
  /// Takes the parameters to update (handles: updates reach the module's tensors) and the learning rate.
  Optimizer(std::vector<Parameter> parameters, double learning_rate);
  virtual ~Optimizer() = default;

  /// Applies one update to every parameter that has a gradient, counting the step first. The parameters'
  /// elements go in blocks spread over the kernel threads, all parameters in one loop.
  void step();
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
  /// Updates elements [begin, end) of parameter `index` (flat, row-major) from its gradient `grad` (same
  /// shape and dtype). Called concurrently for disjoint ranges; an element's update must not depend on the
  /// range it comes in, so that results are the same for any thread count.
  virtual void update(std::size_t index, Tensor& value, const Tensor& grad, std::int64_t begin,
                      std::int64_t end) = 0;
  /// Called once per step, after the count and before any update: for constants of the step.
  virtual void begin_step() {}
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
  std::vector<Block> blocks_;  // kept between steps, so that a step allocates nothing
  std::vector<Tensor> grads_;
};

}  // namespace ag::nn
