#include "nn/layers/activation.h"

#include "autograd/ops/activation.h"
#include "autograd/ops/shape_ops.h"

namespace ag::nn {

std::string then_text(Activation activation) {
  return activation == Activation::none ? "" : ", then " + std::string(activation_name(activation));
}

Tensor ScaledTanh::forward(const Tensor& x) { return scaled_tanh(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Flatten::forward(const Tensor& x) { return flatten(x, 1, -1); }

}  // namespace ag::nn
