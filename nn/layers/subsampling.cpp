#include "nn/layers/subsampling.h"

#include <fmt/format.h>

#include "autograd/ops/arithmetic.h"
#include "autograd/ops/subsample.h"
#include "nn/layers/activation.h"

namespace ag::nn {

Subsampling::Subsampling(std::int64_t channels, std::int64_t kernel, Generator& gen, Init init, DType dtype,
                         Activation activation, SubsamplingOptions options)
    : channels_(channels), kernel_(kernel), activation_(activation), options_(options) {
  if (channels <= 0 || kernel <= 0)
    fail("Subsampling", "channels and kernel must be positive, got {} and {}", channels, kernel);
  coeff = empty({channels}, dtype);
  bias = empty({channels}, dtype);
  // The coefficient plays the role of a weight shared by the window's k*k inputs: fan-in k*k.
  init_weight(coeff, init, kernel * kernel, 1, gen);
  init_bias(bias, init, kernel * kernel, gen);
  register_parameter("coeff", coeff);
  register_parameter("bias", bias);
}

Tensor Subsampling::forward(const Tensor& x) {
  if (!options_.average) return subsample(x, coeff, bias, kernel_, activation_);
  return subsample(x, mul(coeff, 1.0 / static_cast<double>(kernel_ * kernel_)), bias, kernel_, activation_);
}

std::string Subsampling::describe() const {
  return fmt::format("Subsampling({} maps, {}x{} {}, coeff+bias{})", channels_, kernel_, kernel_,
                     options_.average ? "average" : "sum", then_text(activation_));
}

std::int64_t Subsampling::connections(const Shape&, const Shape& out) const {
  return out[1] * out[2] * out[3] * (kernel_ * kernel_ + 1);
}

}  // namespace ag::nn
