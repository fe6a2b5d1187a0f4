#pragma once
/// LeNet-5's sub-sampling layer (S2, S4): a k x k window sum per map, times a trainable coefficient,
/// plus a trainable bias.
#include "autograd/ops/activation.h"
#include "nn/init.h"
#include "nn/module.h"

namespace ag::nn {

/// How the window is pooled.
struct SubsamplingOptions {
  /// The window's average instead of its sum (the paper adds the four inputs): coeff[c] / (k*k) multiplies the sum.
  bool average = false;
};

/// x [N,C,H,W] -> [N,C,H/k,W/k]: y = activation(coeff[c] * (sum of the k x k window) + bias[c]), the
/// activation (none by default) applied as the op writes its output: one op (two with options.average: the
/// coefficient is scaled by 1/(k*k) first, a [C] product).
class Subsampling : public Module {
 public:
  /// Creates the layer for `channels` maps; coeff and bias are initialised with fan-in k*k.
  Subsampling(std::int64_t channels, std::int64_t kernel, Generator& gen, Init init = Init::lecun1998,
              DType dtype = DType::f32, Activation activation = Activation::none, SubsamplingOptions options = {});
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;

  Tensor coeff, bias;

 private:
  std::int64_t channels_, kernel_;
  Activation activation_;
  SubsamplingOptions options_;
};

}  // namespace ag::nn
