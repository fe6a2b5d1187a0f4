#pragma once
/// Reverse-mode backward: walks the graph from a result to the leaves, accumulating gradients.
#include "autograd/tensor.h"

namespace ag {

/// Back-propagates from `root` with upstream gradient `grad` (implied 1 for a one-element root when
/// undefined), adding into the .grad of every leaf that requires a gradient. Iterative; frees each node
/// after use unless `retain_graph` or `create_graph`. With `create_graph` the pass runs each op's recorded
/// rule (Rules::recorded) with recording on, so the gradients are graph results that can be differentiated
/// again (to any order). Throws when it reaches a released node, an op without a rule, or, with
/// `create_graph`, an op whose rule is not differentiable yet (naming it).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph = false);

/// Returns the gradients of `root` with respect to each of `inputs` (leaves or intermediate results)
/// without touching any .grad: like torch.autograd.grad. Undefined where no gradient reaches an input. With
/// `create_graph`, as in run_backward: the gradients returned can be differentiated again.
std::vector<Tensor> grad(const Tensor& root, const std::vector<Tensor>& inputs, const Tensor& grad_output = Tensor(),
                         bool retain_graph = false, bool create_graph = false);

}  // namespace ag
