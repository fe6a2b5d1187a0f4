#include "nn/layers/max_pool.h"

#include <fmt/format.h>

#include "autograd/ops/max_pool.h"

namespace ag::nn {

MaxPool2d::MaxPool2d(std::int64_t kernel, std::int64_t stride) : kernel_(kernel), stride_(stride == 0 ? kernel : stride) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_); }

std::optional<Tensor> MaxPool2d::forward_activated(const Tensor& x, Activation a) {
  return max_pool2d(x, kernel_, stride_, a);
}

std::string MaxPool2d::describe() const { return fmt::format("MaxPool2d({}x{}, stride {})", kernel_, kernel_, stride_); }

}  // namespace ag::nn
