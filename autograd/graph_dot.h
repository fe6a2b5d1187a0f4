#pragma once
/// Graph export: the graph that produced a tensor as Graphviz DOT text, for `dot -Tsvg`.
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// Returns the graph that produced `root` (any shape) as Graphviz DOT: one box per op (its name, the shape
/// and dtype of its result), one ellipse per leaf (shape, dtype, "requires grad" or "no grad"), and an edge
/// input -> op for every input, labelled with the input's slot when the op has several. Leaves listed in
/// `names` (e.g. a module's parameters as {"c3.weight", tensor}) show their name. Iterative, so graphs
/// 100,000 ops deep are fine. Throws ag::Error for an undefined root.
std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& names);

/// Returns to_dot(root, {}): the graph of `root` with unnamed leaves.
std::string to_dot(const Tensor& root);

}  // namespace ag
