#pragma once
/// Internal to the ops: the curvature rules (Rules::curvature, autograd/curvature.h) that several ops share.
/// Each takes the diagonal D = diag d2L/dy2 that reached the op's result y and returns sum_i J_ij^2 D_i per
/// input element j, for the op's Jacobian J (Gauss-Newton: terms in an op's second derivative are dropped).
#include <vector>

#include "autograd/graph.h"
#include "autograd/ops/internal/fused_activation.h"

namespace ag::internal {

/// For an op whose Jacobian entries are 0 or 1 (reshape, add, sum, expand, pick, max-pool's routing): J^2 = J,
/// so the diagonal travels exactly as a gradient does, and the op's own backward rule carries it.
inline std::vector<Tensor> route_curvature(const CurvatureInput& at) { return at.backward(at.curvature, at.inputs); }

/// D_z = f'(z)^2 D_y for y = f(z) elementwise (shapes of y), f'(z) read from y as the gradient rules read it.
inline Tensor activation_curvature(Activation activation, const Tensor& curvature, const Tensor& y) {
  if (activation == Activation::none) return curvature;
  const Tensor once = activation_input_gradient("curvature", activation, curvature, y);
  return activation_input_gradient("curvature", activation, once, y);
}

/// `x` with each element squared, requiring a gradient when x does (undefined stays undefined); unrecorded.
inline Tensor squared_copy(const Tensor& x) {
  if (!x.defined()) return x;
  Tensor out = map_unary("curvature", x, [](auto v) { return v * v; });
  if (x.requires_grad()) out.requires_grad_();
  return out;
}

/// For an op z = B(x, W) + b linear in each of its inputs given the others (linear, conv2d), with a fused
/// activation y = f(z) kept as saved[0]: D_x[j] = sum_i W_ij^2 D_z[i], D_W[i,j] = sum_n x_nj^2 D_z[n,i], D_b =
/// sum D_z, D_z = f'(z)^2 D_y. That is the op's own backward rule run with its inputs squared on the upstream
/// D_y f'(z) (the rule multiplies by f'(z) once more itself): so shared weights and a connection table's
/// zeros come out exactly as in the gradient.
inline std::vector<Tensor> bilinear_curvature(const CurvatureInput& at, Activation activation) {
  const Tensor upstream = activation == Activation::none
                              ? at.curvature
                              : activation_input_gradient("curvature", activation, at.curvature, at.saved[0]);
  std::vector<Tensor> squared;
  squared.reserve(at.inputs.size());
  for (const auto& input : at.inputs) squared.push_back(squared_copy(input));
  return at.backward(upstream, squared);
}

}  // namespace ag::internal
