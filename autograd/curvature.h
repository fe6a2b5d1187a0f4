#pragma once
/// Diagonal curvature back-propagation (LeCun et al. 1998, Appendix C; BackPACK's DiagGGN): the diagonal of
/// the Gauss-Newton matrix of a loss with respect to parameters, in one pass beside the gradient, from each
/// op's curvature rule (Rules::curvature). docs/curvature.md gives the rule of every op and its accuracy.
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// What ag::backward_curvature returns: per parameter, in the order asked, the gradient and the diagonal.
struct CurvatureResult {
  std::vector<Tensor> gradients;  ///< dL/dp, p's shape; undefined where no gradient reached p.
  std::vector<Tensor> diagonals;  ///< Gauss-Newton diag d2L/dp2, p's shape; zeros where nothing reached p.
};

/// Returns the gradient and the Gauss-Newton diagonal of the one-element `loss` [] or [1] with respect to each of
/// `parameters` (tensors that require a gradient, any shapes), without touching any .grad. One pass over the
/// recorded graph in backward's order: the loss's own rule seeds it (the diagonal of its Hessian with respect to
/// its input), each op's curvature rule carries diag d2L/dy2 to its inputs, the diagonals that reach a tensor
/// from several consumers are summed (shared weights sum over their uses). Throws naming the first op reached
/// that has no curvature rule, or one with an input written in place since it ran (a rule may read any input).
/// Frees the graph unless `retain_graph`.
CurvatureResult backward_curvature(const Tensor& loss, const std::vector<Tensor>& parameters,
                                   bool retain_graph = false);

}  // namespace ag
