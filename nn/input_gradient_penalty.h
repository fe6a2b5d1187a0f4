#pragma once
/// Double back-propagation (Drucker and LeCun, 1992): a penalty on how fast the loss changes with the
/// input, which makes a network less sensitive to small distortions of its input.
#include "autograd/tensor.h"

namespace ag::nn {

/// Returns P = (1/N) sum_n |dE_n/dx_n|^2, one element, for the per-sample losses E_n of the batch mean
/// `loss` E = (1/N) sum_n E_n and the batch `input` x [N,...] (a leaf that requires a gradient, from which
/// loss was computed). P is recorded: its gradient with respect to the parameters is the second derivative
/// that a training step on E + weight P back-propagates (computed with create_graph; every op has a
/// differentiable rule). Keeps the graph of `loss`.
Tensor input_gradient_penalty(const Tensor& loss, const Tensor& input);

}  // namespace ag::nn
