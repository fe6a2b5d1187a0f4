#pragma once
/// Fully connected layer (LeNet-5's F6, the modern variant's output).
#include "autograd/ops/activation.h"
#include "nn/init.h"
#include "nn/module.h"

namespace ag::nn {

/// y = activation(x W^T + b): x [N,in] -> [N,out]; weight [out,in], bias [out]; the activation (none by
/// default) applied as the product writes its output: one op.
class Linear : public Module {
 public:
  /// Creates the layer with weights drawn by `init` from `gen`.
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, Init init = Init::lecun1998,
         DType dtype = DType::f32, Activation activation = Activation::none);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;

  Tensor weight, bias;

 private:
  std::int64_t in_features_, out_features_;
  Activation activation_;
};

}  // namespace ag::nn
