#include "nn/module.h"

#include <fmt/format.h>

#include "autograd/graph.h"
#include "autograd/profile.h"

namespace ag::nn {

std::int64_t Module::connections(const Shape&, const Shape&) const { return 0; }

std::vector<Parameter> Module::parameters() const {
  std::vector<Parameter> out = own_;
  for (const auto& [name, child] : children_)
    for (auto p : child->parameters()) {
      p.name = name + "." + p.name;
      out.push_back(std::move(p));
    }
  return out;
}

std::int64_t Module::trainable_count() const {
  std::int64_t total = 0;
  for (const auto& p : parameters()) total += p.trainable;
  return total;
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.value.zero_grad();
}

Tensor Module::register_parameter(std::string name, Tensor value, std::int64_t trainable) {
  value.requires_grad_();
  own_.push_back({std::move(name), value, trainable < 0 ? value.numel() : trainable});
  return value;
}

void Module::register_module(std::string name, std::shared_ptr<Module> module) {
  children_.emplace_back(std::move(name), std::move(module));
}

Sequential& Sequential::add(std::string name, std::shared_ptr<Module> module) {
  register_module(std::move(name), std::move(module));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, layer] : children()) {
    const ProfileScope timed([&] { return "forward " + name; });
    h = layer->forward(h);
  }
  return h;
}

std::string Sequential::describe() const { return fmt::format("Sequential({} layers)", children().size()); }

std::int64_t Sequential::connections(const Shape& in, const Shape&) const {
  std::int64_t total = 0;
  for (const auto& row : summarize(const_cast<Sequential&>(*this), in)) total += row.connections;
  return total;
}

std::vector<LayerSummary> summarize(Sequential& model, const Shape& input_shape) {
  NoGradGuard no_grad;
  Shape one = input_shape;
  if (!one.empty()) one[0] = 1;
  Tensor h = zeros(one, model.parameters().empty() ? DType::f32 : model.parameters().front().value.dtype());
  std::vector<LayerSummary> rows;
  for (const auto& [name, child] : model.children()) {
    Tensor out = child->forward(h);
    rows.push_back({name, child->describe(), out.shape(), child->trainable_count(), child->connections(h.shape(), out.shape())});
    h = out;
  }
  return rows;
}

std::string summary_table(Sequential& model, const Shape& input_shape) {
  std::string out = fmt::format("{:<8} {:<60} {:<12} {:>10} {:>12}\n", "layer", "type", "output", "params", "connections");
  std::int64_t params = 0, connections = 0;
  for (const auto& row : summarize(model, input_shape)) {
    Shape per_sample(row.output_shape.begin() + 1, row.output_shape.end());
    out += fmt::format("{:<8} {:<60} {:<12} {:>10} {:>12}\n", row.name, row.description, shape_str(per_sample), row.parameters,
                       row.connections);
    params += row.parameters;
    connections += row.connections;
  }
  out += fmt::format("{:<8} {:<60} {:<12} {:>10} {:>12}\n", "total", "", "", params, connections);
  return out;
}

}  // namespace ag::nn
