#pragma once
/// The training criteria by name, and the prediction rule that goes with each.
#include <string_view>

#include "autograd/tensor.h"

namespace ag::nn {

enum class LossKind {
  map,            ///< the paper's eq. 9 on RBF outputs (squared distances); predict argmin
  mle,            ///< the paper's eq. 8 on RBF outputs; predict argmin
  cross_entropy,  ///< softmax cross-entropy on logits; predict argmax
};

/// Parses "map", "mle" or "cross_entropy"; throws ag::Error naming the text otherwise.
LossKind parse_loss(std::string_view name);

/// Returns the scalar loss of `output` [N,K] against int64 `target` [N]; `map_j` is eq. 9's constant j.
Tensor compute_loss(LossKind kind, const Tensor& output, const Tensor& target, double map_j);

/// Returns the predicted classes, int64 [N]: argmin of the distances for RBF losses, argmax of logits otherwise.
Tensor predict(LossKind kind, const Tensor& output);

}  // namespace ag::nn
