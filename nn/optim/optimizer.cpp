#include "nn/optim/optimizer.h"

#include <cmath>

namespace ag::nn {

Optimizer::Optimizer(std::vector<Parameter> parameters, double learning_rate)
    : parameters_(std::move(parameters)), learning_rate_(learning_rate) {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    fail("optimizer", "the learning rate must be finite and > 0, got {}", learning_rate);
}

void Optimizer::step() {
  ++steps_;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& value = parameters_[i].value;
    const Tensor grad = value.grad();
    if (grad.defined()) update(i, value, grad);
  }
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p.value.zero_grad();
}

}  // namespace ag::nn
