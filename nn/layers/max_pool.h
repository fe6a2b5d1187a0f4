#pragma once
/// Max-pooling layer (the modern variant's sub-sampling).
#include "nn/module.h"

namespace ag::nn {

/// x [N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1], the maximum of each k x k window.
class MaxPool2d : public Module {
 public:
  /// Creates the layer; stride defaults to the kernel size (non-overlapping windows).
  explicit MaxPool2d(std::int64_t kernel, std::int64_t stride = 0);
  Tensor forward(const Tensor& x) override;
  /// The max-pool and then `a`, as one op (max_pool2d+relu).
  std::optional<Tensor> forward_activated(const Tensor& x, Activation a) override;
  std::string describe() const override;
  /// True for ReLU: the first maximum of a window is where ReLU keeps it, or its gradient is 0 either way.
  bool commutes_with(Activation a) const override { return a == Activation::relu; }

 private:
  std::int64_t kernel_, stride_;
};

}  // namespace ag::nn
