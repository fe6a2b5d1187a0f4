#include "autograd/graph.h"

#include "autograd/anomaly.h"

namespace ag {

namespace {
thread_local bool grad_mode = true;
}  // namespace

bool grad_mode_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

Node::~Node() {
  // Destroying a node destroys its inputs, whose grad_fn nodes destroy theirs, and so on: recursion as
  // deep as the graph. Instead, nodes about to die are moved onto one thread-local list and destroyed
  // in a loop by the outermost ~Node.
  thread_local std::vector<std::shared_ptr<Node>> doomed;
  thread_local bool draining = false;
  for (auto& input : inputs) {
    if (input.impl() && input.impl().use_count() == 1 && input.impl()->grad_fn)
      doomed.push_back(std::move(input.impl()->grad_fn));
  }
  inputs.clear();
  backward = nullptr;
  if (draining) return;
  draining = true;
  while (!doomed.empty()) {
    auto node = std::move(doomed.back());
    doomed.pop_back();
    node.reset();  // may push further nodes onto `doomed`
  }
  draining = false;
}

void Node::release() {
  inputs.clear();
  backward = nullptr;
  released = true;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const auto& input : inputs)
    if (input.defined() && input.requires_grad()) return true;
  return false;
}

Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward) {
  if (anomaly_mode_enabled()) check_finite(name, "forward", output);
  if (!any_requires_grad(inputs)) return output;
  // A result must be fresh: never turn a user's leaf (or a detached view of one) into an op result.
  auto& impl = *output.impl();
  impl.requires_grad = true;
  impl.grad_fn = std::make_shared<Node>(std::move(name), std::move(inputs), std::move(backward));
  return output;
}

}  // namespace ag
