#pragma once
/// LeNet-5's output layer: Euclidean radial basis function units, one per class.
#include "nn/module.h"

namespace ag::nn {

/// x [N,D] -> [N,K], y[n,i] = sum_j (x[n,j] - centres[i,j])^2, the squared distance to each class's
/// code; the predicted class is the argmin. The centres are fixed unless `trainable`: a buffer "centres" then,
/// a parameter "centres" otherwise.
class RbfOutput : public Module {
 public:
  /// Creates the layer from centres [K,D].
  explicit RbfOutput(Tensor centres, bool trainable = false);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;

  Tensor centres;

 private:
  bool trainable_;
};

}  // namespace ag::nn
