#pragma once
/// Tensor: an n-dimensional, contiguous, row-major array that can take part in the autograd graph.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/dtype.h"
#include "autograd/random.h"
#include "autograd/shape.h"

namespace ag {

struct Node;
struct TensorImpl;
struct LeafHooks;
class Tensor;
class GradientConsumer;

/// Identifies a registered hook, for Tensor::remove_hook.
using HookId = std::uint64_t;
/// A function backward runs with a leaf once it has accumulated the leaf's whole gradient of the pass into
/// .grad (every use of the leaf in the graph has sent its share), like PyTorch's post-accumulate-grad hook.
using PostAccumulateGradHook = std::function<void(Tensor& leaf)>;
/// A function backward runs with the gradient of a tensor (its total over the pass, before the tensor's op
/// uses it, or before a leaf accumulates it); it returns a replacement of the same shape and dtype, or an
/// undefined tensor to keep the gradient as it is. Like PyTorch's Tensor.register_hook.
using GradHook = std::function<Tensor(const Tensor& grad)>;

/// Shared ownership of a tensor's values: a 64-byte aligned block from the storage cache (memory.h), whose
/// reference count sits in a header in front of the values. Like std::shared_ptr<std::byte[]>, but taking
/// storage costs no allocation beyond the cached block (a shared_ptr's control block was one per tensor).
class Storage {
 public:
  /// Creates an empty handle (get() is null).
  Storage() = default;
  /// Takes a block of at least `bytes` bytes from the storage cache.
  explicit Storage(std::size_t bytes);
  Storage(const Storage& other) noexcept;
  Storage(Storage&& other) noexcept : header_(other.header_) { other.header_ = nullptr; }
  Storage& operator=(Storage other) noexcept {
    std::swap(header_, other.header_);
    return *this;
  }
  /// Returns the block to the cache when this was its last handle.
  ~Storage();
  /// Returns the values' first byte (null for an empty handle).
  std::byte* get() const;
  /// Returns how many handles share the block (0 for an empty handle).
  long use_count() const;
  /// Returns the values' version: how many writes they have had (0 for an empty handle). Shared by every
  /// tensor viewing these values (reshape views, detach()).
  std::uint64_t version() const;
  /// Counts one more write of the values.
  void bump_version() const;

 private:
  struct Header;
  Header* header_ = nullptr;
};

/// A cheap handle (shared ownership) to a tensor's values and its autograd state.
/// Copying a Tensor copies the handle, not the values: use clone() for a deep copy.
class Tensor {
 public:
  /// Creates an undefined tensor (defined() is false), used for "no gradient".
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  /// Returns true when this handle refers to a tensor.
  bool defined() const { return impl_ != nullptr; }
  /// Returns the shape, e.g. [N,C,H,W].
  const Shape& shape() const;
  /// Returns the number of dimensions.
  std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
  /// Returns the size of dimension d (negative d counts from the end).
  std::int64_t size(std::int64_t d) const;
  /// Returns the number of elements.
  std::int64_t numel() const;
  /// Returns the element type.
  DType dtype() const;

  /// Returns the contiguous values, read-only; throws when T does not match dtype().
  template <class T> const T* data() const;
  /// Returns the contiguous values for writing, counting a write (version()); throws when T does not match
  /// dtype(), and for a leaf that requires a gradient while grad mode is on (write it inside an
  /// ag::NoGradGuard, as an optimizer does), since backward would see values it did not compute with.
  template <class T> T* mutable_data();
  /// Returns the version of the values: how many writes they have had. An op that saves a tensor for its
  /// backward rule remembers it, and backward refuses a saved tensor written since.
  std::uint64_t version() const;

  /// Returns the single value of a one-element tensor as a double.
  double item() const;
  /// Returns the element at a full index (one entry per dimension) as a double.
  double at(std::initializer_list<std::int64_t> index) const;
  /// Sets the element at a full index, counting a write (as mutable_data); does not record in the graph.
  void set(std::initializer_list<std::int64_t> index, double value);
  /// Returns all values, converted to double, in row-major order.
  std::vector<double> to_vector() const;

  /// Returns true when gradients flow to (leaf) or through (op result) this tensor.
  bool requires_grad() const;
  /// Marks a leaf tensor as a parameter to differentiate with respect to; returns *this.
  Tensor& requires_grad_(bool enabled = true);
  /// Returns true for a tensor made by the user, not by a recorded op.
  bool is_leaf() const;
  /// Returns the gradient accumulated by backward() (same shape), or an undefined tensor if none yet.
  Tensor grad() const;
  /// Drops the accumulated gradient, so the next backward() starts from zero.
  void zero_grad();
  /// Replaces the accumulated gradient (same shape and dtype, or undefined).
  void set_grad(const Tensor& grad);
  /// Registers `hook` to run after each backward pass has accumulated this leaf's gradient into .grad (not for
  /// ag::grad, which touches no .grad); hooks run in the order registered. Returns the id for remove_hook.
  /// Leaves that require a gradient only.
  HookId register_post_accumulate_grad_hook(PostAccumulateGradHook hook);
  /// Registers `hook` to see, and possibly replace, this tensor's gradient in every backward pass (and in
  /// ag::grad) that reaches it; hooks run in the order registered. Returns the id for remove_hook. Tensors
  /// that require a gradient only.
  HookId register_hook(GradHook hook);
  /// Removes the hook (of either kind) registered under `id`; does nothing when there is none.
  void remove_hook(HookId id);
  /// Gives this leaf a consumer that takes its complete gradient of each backward pass instead of .grad
  /// (whole, or in blocks as a rule computes it: autograd/gradient_consumer.h); null removes it. Its
  /// post-accumulate-grad hooks then see no gradient. Leaves that require a gradient only.
  void set_gradient_consumer(std::shared_ptr<GradientConsumer> consumer);
  /// Returns this leaf's gradient consumer, or null.
  std::shared_ptr<GradientConsumer> gradient_consumer() const;
  /// Returns the op node that produced this tensor, or null for a leaf.
  const std::shared_ptr<Node>& grad_fn() const;

  /// Back-propagates from this tensor: from a one-element tensor with gradient 1 when `grad` is undefined,
  /// otherwise with `grad` (same shape) as the upstream gradient. Frees the graph unless `retain_graph`. With
  /// `create_graph`, the gradients are themselves recorded (so .grad can be differentiated again) and the
  /// graph is kept.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false, bool create_graph = false) const;

  /// Returns a tensor sharing these values but cut from the graph (no grad_fn, no requires_grad).
  Tensor detach() const;
  /// Returns a deep copy of the values, cut from the graph.
  Tensor clone() const;

  /// Returns a readable rendering: values (elided when large), shape and dtype.
  std::string to_string() const;

  /// Returns the shared implementation (for the engine and for op authors).
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

/// The state behind a Tensor handle.
struct TensorImpl {
  Shape shape;
  DType dtype = DType::f32;
  Storage storage;  ///< 64-byte aligned, shared by reshape views and detach().
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;  ///< The op that produced this tensor (null for leaves).
  Tensor grad;                    ///< Accumulated gradient of a leaf.
  std::unique_ptr<LeafHooks> hooks;  ///< A leaf's hooks and gradient consumer, or null (most tensors).
  TensorImpl();
  ~TensorImpl();
};

/// Writes t.to_string() to `out`.
std::ostream& operator<<(std::ostream& out, const Tensor& t);

/// Returns an uninitialised tensor of `shape` (values to be written by the caller).
Tensor empty(const Shape& shape, DType dtype = DType::f32);
/// Returns a tensor of `shape` filled with 0.
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
/// Returns a tensor of `shape` filled with 1.
Tensor ones(const Shape& shape, DType dtype = DType::f32);
/// Returns a tensor of `shape` filled with `value`.
Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
/// Returns a tensor of `shape` holding `values` in row-major order; throws when the counts differ.
Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::f32);
/// Returns an int64 tensor of `shape` holding `values` (class indices).
Tensor from_indices(const std::vector<std::int64_t>& values, const Shape& shape);
/// Returns a scalar (shape []) tensor.
Tensor scalar(double value, DType dtype = DType::f32);
/// Returns a tensor of `shape` with values uniform in [lo, hi) drawn from `gen`.
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::f32);
/// Returns a tensor of `shape` with normal values (mean, stddev) drawn from `gen`.
Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype = DType::f32);
/// Returns zeros with the shape and dtype of `like`.
Tensor zeros_like(const Tensor& like);
/// Returns ones with the shape and dtype of `like`.
Tensor ones_like(const Tensor& like);

}  // namespace ag
