#include "nn/layers/max_pool.h"

#include <fmt/format.h>

#include "autograd/ops/max_pool.h"
#include "nn/layers/activation.h"

namespace ag::nn {

MaxPool2d::MaxPool2d(std::int64_t kernel, std::int64_t stride, Activation activation)
    : kernel_(kernel), stride_(stride == 0 ? kernel : stride), activation_(activation) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_, activation_); }

std::string MaxPool2d::describe() const {
  return fmt::format("MaxPool2d({}x{}, stride {}{})", kernel_, kernel_, stride_, then_text(activation_));
}

}  // namespace ag::nn
