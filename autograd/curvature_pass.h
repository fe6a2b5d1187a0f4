#pragma once
/// Internal to the core (backward.cpp, curvature.cpp): the curvature pass rides on the backward pass's
/// traversal (the same use counts and Kahn order); at each node it runs the op's curvature rule beside its
/// backward rule and sends the diagonals on as the gradients are sent.
#include <unordered_map>
#include <vector>

#include "autograd/graph.h"

namespace ag {

/// Where a curvature pass's diagonals go: `nodes` holds diag d2L/d(result)^2 of each node reached, summed over
/// its consumers so far (kept here, not in Node, so that plain backward's nodes stay as small as they were);
/// `leaves` holds a slot (undefined until a diagonal arrives) for each leaf whose diagonal the caller asked for;
/// other leaves' diagonals are dropped.
struct CurvatureSink {
  std::unordered_map<const Node*, Tensor> nodes;
  std::unordered_map<const TensorImpl*, Tensor> leaves;
};

/// Runs `node`'s curvature rule on dL/dy = `grad_output` and its summed diag d2L/dy2 (zero when none reached
/// it: the root's, or below ops that send none), and adds each input's diagonal into its producer's sum or
/// `sink`'s leaf slot. Throws naming the op when it has no curvature rule or a diagonal has
/// the wrong shape. Defined in curvature.cpp.
void propagate_curvature(Node& node, const Tensor& grad_output, CurvatureSink& sink);

/// As ag::grad(root, inputs) (a one-element root, implied upstream gradient 1), with each node's curvature
/// rule run too, the leaves' diagonals going to `sink`. Defined in backward.cpp.
std::vector<Tensor> gradients_with_curvature(const Tensor& root, const std::vector<Tensor>& inputs, bool retain_graph,
                                             CurvatureSink& sink);

}  // namespace ag
