#include "autograd/graph_dot.h"

#include <fmt/format.h>

#include <deque>
#include <unordered_map>

#include "autograd/graph.h"

namespace ag {

namespace {

/// Returns `text` with '"' and '\' escaped, for a DOT string.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// Returns the DOT statement for the tensor `t`, numbered `id`: an op's result or a leaf.
std::string node_statement(std::size_t id, const Tensor& t, const std::unordered_map<const TensorImpl*, std::string>& names) {
  const std::string type = fmt::format("{} {}", shape_str(t.shape()), dtype_name(t.dtype()));
  if (const auto& node = t.grad_fn())
    return fmt::format("  n{} [shape=box, label=\"{}\\n{}{}\"];\n", id, escape(node->name), type,
                       node->released ? "\\n(released)" : "");
  const auto named = names.find(t.impl().get());
  const std::string name = named != names.end() ? escape(named->second) + "\\n" : "";
  if (t.requires_grad())
    return fmt::format("  n{} [shape=ellipse, style=filled, fillcolor=lightblue, label=\"{}{}\\nrequires grad\"];\n", id,
                       name, type);
  return fmt::format("  n{} [shape=ellipse, label=\"{}{}\\nno grad\"];\n", id, name, type);
}

/// Returns what identifies the vertex of `t`: its op's Node for an op result, its own state for a leaf.
const void* vertex_key(const Tensor& t) {
  if (t.grad_fn()) return t.grad_fn().get();
  return t.impl().get();
}

}  // namespace

std::string to_dot(const Tensor& root, const std::vector<std::pair<std::string, Tensor>>& names) {
  if (!root.defined()) fail("to_dot", "the root tensor is undefined");
  std::unordered_map<const TensorImpl*, std::string> leaf_names;
  for (const auto& [name, t] : names)
    if (t.defined()) leaf_names.emplace(t.impl().get(), name);

  // Breadth first from the root, numbering vertices as they are first seen (the root is n0).
  std::unordered_map<const void*, std::size_t> ids;
  std::deque<Tensor> queue;
  const auto id_of = [&](const Tensor& t) {
    auto [it, is_new] = ids.try_emplace(vertex_key(t), ids.size());
    if (is_new) queue.push_back(t);
    return it->second;
  };
  std::string out = "digraph autograd {\n";
  id_of(root);
  while (!queue.empty()) {
    const Tensor t = std::move(queue.front());
    queue.pop_front();
    const std::size_t id = ids.at(vertex_key(t));
    out += node_statement(id, t, leaf_names);
    if (!t.grad_fn()) continue;
    const auto& inputs = t.grad_fn()->inputs;
    for (std::size_t slot = 0; slot < inputs.size(); ++slot) {
      if (!inputs[slot].defined()) continue;
      const std::size_t from = id_of(inputs[slot]);
      if (inputs.size() > 1) out += fmt::format("  n{} -> n{} [label=\"{}\"];\n", from, id, slot);
      else out += fmt::format("  n{} -> n{};\n", from, id);
    }
  }
  out += "}\n";
  return out;
}

std::string to_dot(const Tensor& root) { return to_dot(root, {}); }

}  // namespace ag
