#pragma once
/// Max-pooling layer (the modern variant's sub-sampling).
#include "autograd/ops/activation.h"
#include "nn/module.h"

namespace ag::nn {

/// x [N,C,H,W] -> [N,C,(H+2p_h-k_h)/s_h+1,(W+2p_w-k_w)/s_w+1], the maximum of each k_h x k_w window (padding
/// never wins), then the activation (none by default) as one op. A ReLU after the pool gives the same bits as
/// one before it (max commutes with it), on a quarter of the values. Each size is per axis (ag::Size2; one
/// number means both).
class MaxPool2d : public Module {
 public:
  /// Creates the layer; a stride of 0 on an axis means that axis's kernel size (non-overlapping windows).
  explicit MaxPool2d(Size2 kernel, Size2 stride = 0, Activation activation = Activation::none, Size2 padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Size2 kernel_, stride_, padding_;
  Activation activation_;
};

}  // namespace ag::nn
