#include "nn/layers/max_pool.h"

#include <fmt/format.h>

#include "autograd/ops/max_pool.h"
#include "nn/layers/activation.h"

namespace ag::nn {

MaxPool2d::MaxPool2d(Size2 kernel, Size2 stride, Activation activation, Size2 padding)
    : kernel_(kernel),
      stride_(stride.h == 0 ? kernel.h : stride.h, stride.w == 0 ? kernel.w : stride.w),
      padding_(padding),
      activation_(activation) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_, stride_, padding_, activation_); }

std::string MaxPool2d::describe() const {
  return fmt::format("MaxPool2d({}x{}, stride {}{}{})", kernel_.h, kernel_.w, stride_.str(),
                     padding_ == Size2(0) ? "" : ", padding " + padding_.str(), then_text(activation_));
}

}  // namespace ag::nn
