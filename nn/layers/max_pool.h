#pragma once
/// Max-pooling layer (the modern variant's sub-sampling).
#include "autograd/ops/activation.h"
#include "nn/module.h"

namespace ag::nn {

/// x [N,C,H,W] -> [N,C,(H-k)/s+1,(W-k)/s+1], the maximum of each k x k window, then the activation (none by
/// default) as one op. A ReLU after the pool gives the same bits as one before it (max commutes with it), on
/// a quarter of the values.
class MaxPool2d : public Module {
 public:
  /// Creates the layer; stride 0 means the kernel size (non-overlapping windows).
  explicit MaxPool2d(std::int64_t kernel, std::int64_t stride = 0, Activation activation = Activation::none);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  std::int64_t kernel_, stride_;
  Activation activation_;
};

}  // namespace ag::nn
