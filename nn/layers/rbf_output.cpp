#include "nn/layers/rbf_output.h"

#include <fmt/format.h>

#include "autograd/ops/rbf.h"

namespace ag::nn {

RbfOutput::RbfOutput(Tensor centres_in, bool trainable) : centres(std::move(centres_in)), trainable_(trainable) {
  if (centres.dim() != 2) fail("RbfOutput", "centres must be [K,D], got {}", shape_str(centres.shape()));
  // Fixed centres are state all the same: saved, loaded and converted by Module::to with the parameters.
  if (trainable)
    register_parameter("centres", centres);
  else
    register_buffer("centres", centres);
}

Tensor RbfOutput::forward(const Tensor& x) { return rbf(x, centres); }

std::string RbfOutput::describe() const {
  return fmt::format("RbfOutput({}->{}, {} centres)", centres.size(1), centres.size(0), trainable_ ? "trainable" : "fixed");
}

std::int64_t RbfOutput::connections(const Shape&, const Shape&) const { return centres.numel(); }

}  // namespace ag::nn
