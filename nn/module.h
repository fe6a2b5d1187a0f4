#pragma once
/// Modules: layers and containers that own named parameters and buffers, with hierarchical names such as
/// "c3.weight".
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

/// A tensor with its hierarchical name: a buffer (state that is not trained, such as the RBF centres), or an
/// entry of a module's whole state (parameters and buffers).
struct NamedTensor {
  std::string name;
  Tensor value;
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
  /// Returns every buffer (state that is saved and converted with the parameters but not trained) of this module
  /// and its children, depth first, with hierarchical names ("output.centres").
  std::vector<NamedTensor> buffers() const;
  /// Returns the module's whole state by name: parameters() then buffers(), each in its own order.
  std::vector<NamedTensor> state() const;
  /// Converts every parameter and buffer to `dtype` (float32 or float64) in place: every handle to them (the
  /// layers' members, an optimizer's list) sees the new values. Parameters stay leaves that require a gradient;
  /// the gradients of converted tensors are dropped. Build optimizers and graphs after it: an optimizer's state
  /// and a graph recorded before keep the old dtype. Throws ag::Error for int64.
  void to(DType dtype);
  /// Returns the number of trainable scalars in parameters().
  std::int64_t trainable_count() const;
  /// Drops the gradient of every parameter.
  void zero_grad();
  /// Returns the direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  /// Registers `value` as parameter `name` (marking it requires_grad); `trainable` defaults to numel().
  Tensor register_parameter(std::string name, Tensor value, std::int64_t trainable = -1);
  /// Registers `value` as buffer `name`: saved, loaded and converted by to() with the parameters, but not a
  /// parameter (optimizers never see it). Throws ag::Error when the module already has an entry of that name.
  Tensor register_buffer(std::string name, Tensor value);
  /// Registers a child module under `name`; its parameters appear as "name.<param>".
  void register_module(std::string name, std::shared_ptr<Module> module);

 private:
  /// Throws ag::Error when this module already has a parameter or buffer called `name`.
  void check_new_name(const std::string& name) const;

  std::vector<Parameter> own_;
  std::vector<NamedTensor> own_buffers_;
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
