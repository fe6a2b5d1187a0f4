#pragma once
/// Modules: layers and containers that own named parameters, with hierarchical names such as "c3.weight".
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace ag::nn {

/// A trainable tensor with its hierarchical name and its count of trainable scalars, which is less
/// than numel() where some entries are structurally zero (a connection table's missing weights).
struct Parameter {
  std::string name;
  Tensor value;
  std::int64_t trainable = 0;
};

/// The base of every layer and container.
class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// Returns the output for a batch x (each layer documents its shapes).
  virtual Tensor forward(const Tensor& x) = 0;
  /// Returns forward(x).
  Tensor operator()(const Tensor& x) { return forward(x); }
  /// Returns a one-line description of the layer, e.g. "Conv2d(1->6, 5x5, stride 1)".
  virtual std::string describe() const = 0;
  /// Returns the connections (multiply-adds, counting a bias as one) per sample for one forward
  /// from input shape `in` to output shape `out` (batch dimension included in both, ignored).
  virtual std::int64_t connections(const Shape& in, const Shape& out) const;

  /// Returns every parameter of this module and its children, depth first, with hierarchical names.
  std::vector<Parameter> parameters() const;
  /// Returns the number of trainable scalars in parameters().
  std::int64_t trainable_count() const;
  /// Drops the gradient of every parameter.
  void zero_grad();
  /// Returns the direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  /// Registers `value` as parameter `name` (marking it requires_grad); `trainable` defaults to numel().
  Tensor register_parameter(std::string name, Tensor value, std::int64_t trainable = -1);
  /// Registers a child module under `name`; its parameters appear as "name.<param>".
  void register_module(std::string name, std::shared_ptr<Module> module);

 private:
  std::vector<Parameter> own_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

/// A chain of named modules applied in order.
class Sequential : public Module {
 public:
  /// Appends `module` under `name` (used in parameter names); returns *this for chaining.
  Sequential& add(std::string name, std::shared_ptr<Module> module);
  /// Returns the last module's output after applying every module in order (a layer that applies an
  /// activation to its own output, as Conv2d can, does so as one op: the model chooses that when it builds it).
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  std::int64_t connections(const Shape& in, const Shape& out) const override;
};

/// One row of a model summary.
struct LayerSummary {
  std::string name;
  std::string description;
  Shape output_shape;
  std::int64_t parameters = 0;   ///< trainable scalars
  std::int64_t connections = 0;  ///< per sample
};

/// Runs one zero sample of `input_shape` (batch dimension first, e.g. [1,1,32,32]) through each child of
/// `model` without recording, and returns per-layer output shapes, parameter and connection counts.
std::vector<LayerSummary> summarize(Sequential& model, const Shape& input_shape);
/// Returns summarize() as a printable table with totals.
std::string summary_table(Sequential& model, const Shape& input_shape);

}  // namespace ag::nn
