#pragma once
/// Higher-order gradients, built on ag::grad with create_graph (autograd/backward.h): Hessian-vector
/// products, the exact diagonal of a Hessian (to check a curvature approximation against), and
/// gradgradcheck, which proves an op's differentiable rule as gradcheck proves its rule.
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/tensor.h"

namespace ag {

/// Returns H v, one tensor per input (of its shape), for the Hessian H of the one-element `output` with
/// respect to `inputs` and `vectors` v, one per input and of its shape: the gradient of (dL/dx) . v, two
/// backward passes. Zero where the gradient does not depend on an input. Keeps output's graph only when
/// `retain_graph`.
std::vector<Tensor> hvp(const Tensor& output, const std::vector<Tensor>& inputs, const std::vector<Tensor>& vectors,
                        bool retain_graph = false);

/// Returns the exact diagonal of the Hessian of the one-element `output`, d2 output / dx_e^2 for every element
/// e of each input, one tensor per input of its shape. One backward pass through the gradient's graph per
/// element: for checking an approximation (such as the Gauss-Newton diagonal) on small models.
std::vector<Tensor> hessian_diagonal(const Tensor& output, const std::vector<Tensor>& inputs);

/// Returns whether the gradients of f are themselves differentiated correctly: for each input x_k that
/// requires a gradient, gradcheck (same options) of the map (inputs, v) -> dL/dx_k for L = v . f(inputs),
/// computed with create_graph, against central differences of that gradient. v is random (options.seed) and
/// checked too, as torch.autograd.gradgradcheck does. Inputs in float64, as for gradcheck.
GradcheckResult gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace ag
