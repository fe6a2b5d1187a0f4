#include "autograd/graph.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/anomaly.h"

namespace ag {

namespace {
thread_local bool grad_mode = true;
}  // namespace

bool grad_mode_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

EnableGradGuard::EnableGradGuard() : previous_(grad_mode) { grad_mode = true; }
EnableGradGuard::~EnableGradGuard() { grad_mode = previous_; }

Node::Node(std::string op_name, std::vector<Tensor> op_inputs, Rules rules, std::vector<Tensor> saved_tensors,
           std::uint64_t inputs_read)
    : name(std::move(op_name)),
      inputs(std::move(op_inputs)),
      backward(rules.fast ? std::move(rules.fast) : rules.recorded),
      recorded(std::move(rules.recorded)),
      curvature(std::move(rules.curvature)),
      saved(std::move(saved_tensors)),
      read_inputs(inputs_read) {
  std::size_t k = 0;
  const auto keep = [&](const Tensor& t) {
    const std::uint64_t version = t.defined() ? t.version() : 0;
    if (k < versions_in_place.size()) versions_in_place[k] = version;
    else versions_beyond.push_back(version);
    ++k;
  };
  for (const auto& input : inputs) keep(input);
  for (const auto& tensor : saved) keep(tensor);
}

std::uint64_t Node::version_when_recorded(std::size_t k) const {
  return k < versions_in_place.size() ? versions_in_place[k] : versions_beyond[k - versions_in_place.size()];
}

void Node::check_versions(bool every_input) const {
  for (std::size_t k = 0; k < inputs.size() + saved.size(); ++k) {
    const bool input = k < inputs.size();
    if (input && !every_input && (k >= 64 || !((read_inputs >> k) & 1))) continue;
    const Tensor& t = input ? inputs[k] : saved[k - inputs.size()];
    if (!t.defined() || t.version() == version_when_recorded(k)) continue;
    fail(name, "{} {} was written in place after the op used it (version {} now, {} when the op ran); its backward "
               "would use the new values: write into a copy, or before the op",
         input ? fmt::format("input {}", k) : std::string("its saved output"), shape_str(t.shape()), t.version(),
         version_when_recorded(k));
  }
}

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
  recorded = nullptr;
  curvature = nullptr;
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
  saved.clear();
  backward = nullptr;
  recorded = nullptr;
  curvature = nullptr;
  released = true;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode) return false;
  for (const auto& input : inputs)
    if (input.defined() && input.requires_grad()) return true;
  return false;
}

Tensor unrecorded(Tensor output, std::string_view op, std::string_view suffix) {
  if (anomaly_mode_enabled())
    check_finite(suffix.empty() ? std::string(op) : fmt::format("{}+{}", op, suffix), "forward", output);
  return output;
}

namespace {

/// Makes `output` the result of op `name` (record's work); `inputs_read` has bit i set when the rule reads
/// input i's values.
Tensor record_node(std::string name, Tensor output, std::vector<Tensor> inputs, Rules rules,
                   std::vector<Tensor> saved, std::uint64_t inputs_read) {
  if (anomaly_mode_enabled()) check_finite(name, "forward", output);
  if (!any_requires_grad(inputs)) return output;
  // A result must be fresh: never turn a user's leaf (or a detached view of one) into an op result.
  auto& impl = *output.impl();
  impl.requires_grad = true;
  impl.grad_fn = std::make_shared<Node>(std::move(name), std::move(inputs), std::move(rules), std::move(saved),
                                        inputs_read);
  return output;
}

}  // namespace

Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward) {
  return record_node(std::move(name), std::move(output), std::move(inputs), Rules{std::move(backward), nullptr}, {},
                     ~std::uint64_t{0});
}

Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, BackwardFn backward,
              std::vector<Tensor> saved) {
  return record(std::move(name), std::move(output), std::move(inputs), Rules{std::move(backward), nullptr},
                std::move(saved));
}

Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, Rules rules) {
  return record_node(std::move(name), std::move(output), std::move(inputs), std::move(rules), {}, ~std::uint64_t{0});
}

Tensor record(std::string name, Tensor output, std::vector<Tensor> inputs, Rules rules, std::vector<Tensor> saved) {
  // The saved tensors that are inputs are checked as inputs; the others (an output the rule kept) as saved.
  // Filtered in place: a batch-1 step records some 25 nodes, and an allocation per node is measurable there.
  std::uint64_t inputs_read = 0;
  std::erase_if(saved, [&](const Tensor& tensor) {
    const auto input = std::find_if(inputs.begin(), inputs.end(), [&](const Tensor& in) {
      return in.defined() && tensor.defined() && in.impl() == tensor.impl();
    });
    if (input == inputs.end() || input - inputs.begin() >= 64) return false;
    inputs_read |= std::uint64_t{1} << (input - inputs.begin());
    return true;
  });
  return record_node(std::move(name), std::move(output), std::move(inputs), std::move(rules), std::move(saved),
                     inputs_read);
}

}  // namespace ag
