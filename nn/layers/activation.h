#pragma once
/// Parameter-free layers applied elementwise or to the shape: activations and Flatten.
#include <string>

#include "autograd/ops/activation.h"
#include "nn/module.h"

namespace ag::nn {

/// Returns ", then <activation>" (e.g. ", then relu") for a layer's describe(), or "" for none.
std::string then_text(Activation activation);

/// The paper's squashing function 1.7159 tanh(2x/3), elementwise; any shape.
class ScaledTanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ScaledTanh(1.7159 tanh(2x/3))"; }
};

/// tanh, elementwise; any shape.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Tanh"; }
};

/// max(x, 0), elementwise; any shape.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "ReLU"; }
};

/// 1 / (1 + e^-x), elementwise; any shape.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Sigmoid"; }
};

/// [N, d1, d2, ...] -> [N, d1*d2*...].
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override { return "Flatten"; }
};

}  // namespace ag::nn
