#pragma once
/// Convolution layer (LeNet-5's C1, C3 with its connection table, C5).
#include "autograd/ops/conv2d.h"
#include "nn/init.h"
#include "nn/module.h"

namespace ag::nn {

/// x [N,in,H,W] -> [N,out,H',W'] with weight [out,in,k,k] and bias [out], then options.activation (applied
/// as the convolution writes its output: one op). With a connection table, the weights of unconnected map
/// pairs stay exactly 0 and are not counted as trainable.
class Conv2d : public Module {
 public:
  /// Creates the layer; each output map's weights are initialised with that map's own fan-in
  /// (connected input maps x k x k), as the paper's +-2.4/F rule asks.
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, Generator& gen,
         Conv2dOptions options = {}, Init init = Init::lecun1998, DType dtype = DType::f32);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;

  Tensor weight, bias;

 private:
  /// Returns the number of input maps output map o reads.
  std::int64_t inputs_of(std::int64_t o) const;

  std::int64_t in_channels_, out_channels_, kernel_;
  Conv2dOptions options_;
};

}  // namespace ag::nn
