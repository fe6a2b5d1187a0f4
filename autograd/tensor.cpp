#include "autograd/tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

#include "autograd/backward.h"
#include "autograd/grad_lock.h"
#include "autograd/graph.h"
#include "autograd/leaf_hooks.h"

namespace ag {

namespace {

/// Storage for `count` elements of `dtype` (at least one byte, so that data() is never null).
Storage allocate_storage(std::int64_t count, DType dtype) {
  return Storage(static_cast<std::size_t>(count) * dtype_size(dtype));
}

}  // namespace

namespace {

std::int64_t flat_index(const Shape& shape, std::initializer_list<std::int64_t> index) {
  if (index.size() != shape.size())
    fail("Tensor::at", "index has {} entries for a tensor of shape {}", index.size(), shape_str(shape));
  std::int64_t flat = 0;
  std::size_t d = 0;
  for (auto i : index) {
    if (i < 0 || i >= shape[d])
      fail("Tensor::at", "index {} is out of range for dimension {} of shape {}", i, d, shape_str(shape));
    flat = flat * shape[d] + i;
    ++d;
  }
  return flat;
}

template <class F>
decltype(auto) dispatch_any(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    default: return f(std::int64_t{});
  }
}

}  // namespace

const TensorImpl& Tensor::checked() const {
  if (!impl_) throw Error("Tensor: use of an undefined tensor");
  return *impl_;
}

const Shape& Tensor::shape() const { return checked().shape; }
std::int64_t Tensor::size(std::int64_t d) const { return shape()[normalize_dim("Tensor::size", d, dim())]; }
std::int64_t Tensor::numel() const { return numel_of(shape()); }
DType Tensor::dtype() const { return checked().dtype; }

template <class T>
const T* Tensor::data() const {
  const auto& impl = checked();
  if (impl.dtype != dtype_of<T>())
    fail("Tensor::data", "requested {} values from a {} tensor", dtype_name(dtype_of<T>()), dtype_name(impl.dtype));
  return reinterpret_cast<const T*>(impl.storage.get());
}

template <class T>
T* Tensor::mutable_data() {
  const auto& impl = checked();
  if (impl.requires_grad && !impl.grad_fn && grad_mode_enabled())
    throw Error("Tensor::mutable_data: writing into a leaf that requires a gradient; write inside an "
                "ag::NoGradGuard (as an optimizer does), or into a copy");
  T* values = const_cast<T*>(std::as_const(*this).data<T>());
  impl.storage.bump_version();
  return values;
}

std::uint64_t Tensor::version() const { return checked().storage.version(); }

template float* Tensor::mutable_data<float>();
template double* Tensor::mutable_data<double>();
template std::int64_t* Tensor::mutable_data<std::int64_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const std::int64_t* Tensor::data<std::int64_t>() const;

double Tensor::item() const {
  if (numel() != 1) fail("Tensor::item", "needs a one-element tensor, got shape {}", shape_str(shape()));
  return dispatch_any(dtype(), [&](auto t) { return static_cast<double>(data<decltype(t)>()[0]); });
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
  const auto flat = flat_index(shape(), index);
  return dispatch_any(dtype(), [&](auto t) { return static_cast<double>(data<decltype(t)>()[flat]); });
}

void Tensor::set(std::initializer_list<std::int64_t> index, double value) {
  const auto flat = flat_index(shape(), index);
  dispatch_any(dtype(), [&](auto t) { mutable_data<decltype(t)>()[flat] = static_cast<decltype(t)>(value); });
}

std::vector<double> Tensor::to_vector() const {
  return dispatch_any(dtype(), [&](auto t) {
    const auto* p = data<decltype(t)>();
    return std::vector<double>(p, p + numel());
  });
}

bool Tensor::requires_grad() const { return checked().requires_grad; }

Tensor& Tensor::requires_grad_(bool enabled) {
  if (!is_leaf()) throw Error("Tensor::requires_grad_: only leaf tensors can be marked; this one is made by an op");
  if (enabled && dtype() == DType::i64) throw Error("Tensor::requires_grad_: an int64 tensor cannot require a gradient");
  impl_->requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const { return checked().grad_fn == nullptr; }
std::mutex& grad_lock(const TensorImpl* impl) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<std::uintptr_t>(impl) >> 6) % 64];
}

Tensor Tensor::grad() const {
  const std::lock_guard lock(grad_lock(&checked()));
  return impl_->grad;
}

void Tensor::zero_grad() {
  Tensor dropped;  // destroyed after the lock is released
  const std::lock_guard lock(grad_lock(&checked()));
  dropped = std::exchange(impl_->grad, Tensor());
}

TensorImpl::TensorImpl() = default;
TensorImpl::~TensorImpl() = default;

namespace {

/// Returns a fresh id for a hook.
HookId next_hook_id() {
  static std::atomic<HookId> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

HookId Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) {
  if (!is_leaf()) throw Error("Tensor::register_post_accumulate_grad_hook: only leaf tensors take one; this one is made by an op");
  if (!requires_grad())
    throw Error("Tensor::register_post_accumulate_grad_hook: the tensor does not require a gradient, so none is accumulated");
  if (!hook) throw Error("Tensor::register_post_accumulate_grad_hook: the hook is empty");
  if (!impl_->hooks) impl_->hooks = std::make_unique<LeafHooks>();
  const HookId id = next_hook_id();
  impl_->hooks->post_accumulate.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::set_gradient_consumer(std::shared_ptr<GradientConsumer> consumer) {
  if (!is_leaf()) throw Error("Tensor::set_gradient_consumer: only leaf tensors take one; this one is made by an op");
  if (consumer && !requires_grad())
    throw Error("Tensor::set_gradient_consumer: the tensor does not require a gradient, so none reaches it");
  if (!impl_->hooks) impl_->hooks = std::make_unique<LeafHooks>();
  impl_->hooks->consumer = std::move(consumer);
}

std::shared_ptr<GradientConsumer> Tensor::gradient_consumer() const {
  const auto& hooks = checked().hooks;
  return hooks ? hooks->consumer : nullptr;
}

HookId Tensor::register_hook(GradHook hook) {
  if (!requires_grad()) throw Error("Tensor::register_hook: the tensor does not require a gradient, so none reaches it");
  if (!hook) throw Error("Tensor::register_hook: the hook is empty");
  const HookId id = next_hook_id();
  if (grad_fn()) {
    grad_fn()->output_hooks.emplace_back(id, std::move(hook));
  } else {
    if (!impl_->hooks) impl_->hooks = std::make_unique<LeafHooks>();
    impl_->hooks->grad_hooks.emplace_back(id, std::move(hook));
  }
  return id;
}

void Tensor::remove_hook(HookId id) {
  const auto matches = [id](const auto& entry) { return entry.first == id; };
  if (const auto& node = checked().grad_fn) std::erase_if(node->output_hooks, matches);
  if (!impl_->hooks) return;
  std::erase_if(impl_->hooks->post_accumulate, matches);
  std::erase_if(impl_->hooks->grad_hooks, matches);
}

void Tensor::set_grad(const Tensor& grad) {
  if (grad.defined() && (grad.shape() != shape() || grad.dtype() != dtype()))
    fail("Tensor::set_grad", "gradient of shape {} {} for a tensor of shape {} {}", shape_str(grad.shape()),
         dtype_name(grad.dtype()), shape_str(shape()), dtype_name(dtype()));
  Tensor replaced;  // destroyed after the lock is released
  const std::lock_guard lock(grad_lock(&checked()));
  replaced = std::exchange(impl_->grad, grad);
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked().grad_fn; }

void Tensor::backward(const Tensor& grad, bool retain_graph, bool create_graph) const {
  run_backward(*this, grad, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  const auto& impl = checked();
  auto out = std::make_shared<TensorImpl>();
  out->shape = impl.shape;
  out->dtype = impl.dtype;
  out->storage = impl.storage;
  return Tensor(std::move(out));
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  std::memcpy(out.impl_->storage.get(), checked().storage.get(), static_cast<std::size_t>(numel()) * dtype_size(dtype()));
  return out;
}

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  const auto values = to_vector();
  const auto& s = shape();
  const std::int64_t n = numel();
  // Show every value of small tensors; for large ones the first and last three of each row.
  std::string out = "tensor(";
  std::function<void(std::size_t, std::int64_t)> render = [&](std::size_t d, std::int64_t offset) {
    if (d == s.size()) {
      out += dtype() == DType::i64 ? fmt::format("{}", static_cast<std::int64_t>(values[offset]))
                                   : fmt::format("{:.6g}", values[offset]);
      return;
    }
    const std::int64_t stride = numel_of(Shape(s.begin() + static_cast<std::ptrdiff_t>(d) + 1, s.end()));
    out += "[";
    for (std::int64_t i = 0; i < s[d]; ++i) {
      if (n > 1000 && s[d] > 6 && i == 3) {
        out += "..., ";
        i = s[d] - 3;
      }
      render(d + 1, offset + i * stride);
      if (i + 1 < s[d]) out += ", ";
    }
    out += "]";
  };
  render(0, 0);
  out += fmt::format(", shape={}, dtype={}", shape_str(s), dtype_name(dtype()));
  if (requires_grad()) out += grad_fn() ? fmt::format(", grad_fn={}", grad_fn()->name) : ", requires_grad=true";
  return out + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << t.to_string(); }

Tensor empty(const Shape& shape, DType dtype) {
  for (auto d : shape)
    if (d < 0) fail("empty", "negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = allocate_storage(numel_of(shape), dtype);
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor out = empty(shape, dtype);
  dispatch_any(dtype, [&](auto t) {
    using T = decltype(t);
    std::fill_n(out.mutable_data<T>(), out.numel(), static_cast<T>(value));
  });
  return out;
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }
Tensor zeros_like(const Tensor& like) { return zeros(like.shape(), like.dtype()); }
Tensor ones_like(const Tensor& like) { return ones(like.shape(), like.dtype()); }

Tensor from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  if (static_cast<std::int64_t>(values.size()) != numel_of(shape))
    fail("from_vector", "{} values for shape {} ({} elements)", values.size(), shape_str(shape), numel_of(shape));
  Tensor out = empty(shape, dtype);
  dispatch_any(dtype, [&](auto t) {
    using T = decltype(t);
    std::transform(values.begin(), values.end(), out.mutable_data<T>(), [](double v) { return static_cast<T>(v); });
  });
  return out;
}

Tensor from_indices(const std::vector<std::int64_t>& values, const Shape& shape) {
  if (static_cast<std::int64_t>(values.size()) != numel_of(shape))
    fail("from_indices", "{} values for shape {} ({} elements)", values.size(), shape_str(shape), numel_of(shape));
  Tensor out = empty(shape, DType::i64);
  std::copy(values.begin(), values.end(), out.mutable_data<std::int64_t>());
  return out;
}

namespace {

/// Returns a float tensor of `shape` whose values are draw() in order, converted to its dtype.
template <class Draw>
Tensor drawn(const Shape& shape, DType dtype, std::string_view op, Draw draw) {
  Tensor out = empty(shape, dtype);
  dispatch_floating(dtype, op, [&](auto t) {
    using T = decltype(t);
    T* p = out.mutable_data<T>();
    for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = static_cast<T>(draw());
  });
  return out;
}

}  // namespace

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype) {
  return drawn(shape, dtype, "uniform", [&] { return gen.uniform(lo, hi); });
}

Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen, DType dtype) {
  return drawn(shape, dtype, "normal", [&] { return mean + stddev * gen.normal(); });
}

}  // namespace ag
