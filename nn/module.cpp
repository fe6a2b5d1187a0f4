#include "nn/module.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/ops/shape_ops.h"
#include "autograd/profile.h"

namespace ag::nn {

namespace {

// Gives the tensor behind `t` the values converted to `dtype`. Every handle shares the one TensorImpl (a layer's
// member, the module's list, an optimizer's list), so changing it there converts the tensor for all of them. The
// values go to a new storage: a view or a graph that holds the old storage keeps reading the old values.
void convert_in_place(Tensor t, DType dtype) {
  if (t.dtype() == dtype) return;
  const Tensor converted = to_dtype(t.detach(), dtype);  // detached: nothing is recorded
  t.zero_grad();  // a gradient of the old dtype would not fit the new values
  TensorImpl& impl = *t.impl();
  impl.storage = converted.impl()->storage;
  impl.dtype = dtype;
}

// Appends a child's `entries` (parameters or buffers), their names prefixed with the child's: "c3.weight".
template <class Entry>
void append_prefixed(std::vector<Entry>& out, std::vector<Entry> entries, const std::string& prefix) {
  for (auto& entry : entries) {
    entry.name = prefix + "." + entry.name;
    out.push_back(std::move(entry));
  }
}

}  // namespace

std::int64_t Module::connections(const Shape&, const Shape&) const { return 0; }

std::vector<Parameter> Module::parameters() const {
  std::vector<Parameter> out = own_;
  for (const auto& [name, child] : children_) append_prefixed(out, child->parameters(), name);
  return out;
}

std::vector<NamedTensor> Module::buffers() const {
  std::vector<NamedTensor> out = own_buffers_;
  for (const auto& [name, child] : children_) append_prefixed(out, child->buffers(), name);
  return out;
}

std::vector<NamedTensor> Module::state() const {
  std::vector<NamedTensor> out;
  for (auto& p : parameters()) out.push_back({std::move(p.name), std::move(p.value)});
  for (auto& b : buffers()) out.push_back(std::move(b));
  return out;
}

void Module::to(DType dtype) {
  if (dtype != DType::f32 && dtype != DType::f64)
    fail("Module::to", "expected float32 or float64, got {}", dtype_name(dtype));
  for (const auto& entry : state()) convert_in_place(entry.value, dtype);
}

std::int64_t Module::trainable_count() const {
  std::int64_t total = 0;
  for (const auto& p : parameters()) total += p.trainable;
  return total;
}

void Module::zero_grad() {
  for (auto& p : parameters()) p.value.zero_grad();
}

void Module::check_new_name(const std::string& name) const {
  const auto same = [&](const auto& entry) { return entry.name == name; };
  if (std::any_of(own_.begin(), own_.end(), same) || std::any_of(own_buffers_.begin(), own_buffers_.end(), same))
    fail("Module", "{} already has a parameter or buffer called \"{}\"", describe(), name);
}

Tensor Module::register_parameter(std::string name, Tensor value, std::int64_t trainable) {
  check_new_name(name);
  value.requires_grad_();
  own_.push_back({std::move(name), value, trainable < 0 ? value.numel() : trainable});
  return value;
}

Tensor Module::register_buffer(std::string name, Tensor value) {
  check_new_name(name);
  own_buffers_.push_back({std::move(name), value});
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
