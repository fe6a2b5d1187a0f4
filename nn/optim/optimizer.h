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

  /// Applies one update to every parameter that has a gradient, then counts the step.
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
  /// Updates parameter `index` from its gradient `grad` (same shape and dtype).
  virtual void update(std::size_t index, Tensor& value, const Tensor& grad) = 0;

  std::vector<Parameter> parameters_;
  double learning_rate_;
  std::int64_t steps_ = 0;
};

}  // namespace ag::nn
