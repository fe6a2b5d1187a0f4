#include "nn/input_gradient_penalty.h"

#include "autograd/backward.h"
#include "autograd/error.h"
#include "autograd/ops/arithmetic.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/unary.h"

namespace ag::nn {

// Sample n's input reaches only its own loss term, so dE/dx_n = (1/N) dE_n/dx_n and
// P = (1/N) sum_n |N dE/dx_n|^2 = N |dE/dx|^2, summed over the whole batch gradient.
Tensor input_gradient_penalty(const Tensor& loss, const Tensor& input) {
  if (!loss.defined() || loss.numel() != 1)
    fail("input_gradient_penalty", "needs a one-element loss, got {}",
         loss.defined() ? shape_str(loss.shape()) : "undefined");
  if (!input.defined() || input.dim() < 1 || !input.requires_grad())
    fail("input_gradient_penalty", "the input must be a batch [N,...] that requires a gradient, got {}",
         input.defined() ? shape_str(input.shape()) : "undefined");
  const Tensor dx = grad(loss, {input}, Tensor(), true, true)[0];
  if (!dx.defined()) fail("input_gradient_penalty", "the loss does not depend on the input {}", shape_str(input.shape()));
  return mul(sum(square(dx)), static_cast<double>(input.size(0)));
}

}  // namespace ag::nn
