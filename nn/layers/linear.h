#pragma once
/// Fully connected layer (LeNet-5's F6, the modern variant's output).
#include "nn/init.h"
#include "nn/module.h"

namespace ag::nn {

/// y = x W^T + b: x [N,in] -> [N,out]; weight [out,in], bias [out].
class Linear : public Module {
 public:
  /// Creates the layer with weights drawn by `init` from `gen`.
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, Init init = Init::lecun1998,
         DType dtype = DType::f32);
  Tensor forward(const Tensor& x) override;
  /// Returns the layer with `a` as its fused epilogue (one op, the same bits as the two).
  std::optional<Tensor> forward_activated(const Tensor& x, Activation a) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;

  Tensor weight, bias;

 private:
  std::int64_t in_features_, out_features_;
};

}  // namespace ag::nn
