#pragma once
/// Reverse-mode backward: walks the graph from a result to the leaves, accumulating gradients.
#include "autograd/tensor.h"

namespace ag {

/// Back-propagates from `root` with upstream gradient `grad` (implied 1 for a one-element root when
/// undefined), adding into the .grad of every leaf that requires a gradient. Iterative; frees each node
/// after use unless `retain_graph`. Throws when it reaches a released node or an op without a rule.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

/// Returns the gradients of `root` with respect to each of `inputs` (leaves or intermediate results)
/// without touching any .grad: like torch.autograd.grad. Undefined where no gradient reaches an input.
std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& inputs, const Tensor& grad_output = Tensor(),
                         bool retain_graph = false);

}  // namespace ag
