#include "autograd/pass_state.h"

namespace ag {

PassNodes::PassNodes() : id_(next_id_.fetch_add(1, std::memory_order_relaxed)) { nodes_.reserve(64); }

PassNodes::~PassNodes() {
  for (const auto& node : nodes_) {
    node->backward_pass = 0;
    node->consumers_left = 0;
    node->gradient_sum = Tensor();
  }
  for (const auto& leaf : leaves_) leaf.impl()->hooks->end_pass();
}

bool PassNodes::add(const std::shared_ptr<Node>& node) {
  if (node->backward_pass == id_) return false;
  if (node->released)
    fail(node->name, "backward through a graph that was already released; call the first backward with "
                     "retain_graph = true to go through it twice");
  // The counts live in the nodes, so two passes cannot share one: say so rather than mix their counts.
  if (node->backward_pass != 0)
    fail(node->name, "backward reached a node that another backward pass is going through (a backward "
                     "inside a backward rule, or on two threads at once through one graph)");
  node->backward_pass = id_;
  nodes_.push_back(node);
  return true;
}

void PassNodes::add_leaf_use(const Tensor& leaf) {
  LeafHooks& hooks = *leaf.impl()->hooks;
  if (hooks.backward_pass != id_) {
    if (hooks.backward_pass != 0)
      throw Error("backward: a leaf with hooks is in another backward pass (a backward inside a backward rule, "
                  "or on two threads at once)");
    hooks.end_pass();
    hooks.backward_pass = id_;
    leaves_.push_back(leaf);
  }
  hooks.uses += 1;
  hooks.uses_left += 1;
}

}  // namespace ag
