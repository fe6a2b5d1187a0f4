#include "nn/optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "autograd/anomaly.h"
#include "autograd/gradient_consumer.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "nn/optim/moment_floor.h"

namespace ag::nn {

Optimizer::Optimizer(std::vector<Parameter> parameters, double learning_rate)
    : parameters_(std::move(parameters)), learning_rate_(learning_rate) {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    fail("optimizer", "the learning rate must be finite and > 0, got {}", learning_rate);
}

namespace {

/// Checked on the calling thread: the updates run on the pool's threads, where nothing may throw.
/// (A gradient always has its tensor's shape and dtype: Tensor::set_grad checks.)
void check_optimisable(const Parameter& p) {
  if (p.value.dtype() == DType::i64)
    fail("optimizer", "parameter '{}' {} is int64; only float32 and float64 parameters can be optimised", p.name,
         shape_str(p.value.shape()));
}

}  // namespace

/// The gradient consumer of parameter `index` (update_in_backward): each block of its gradient that backward
/// hands over is an update of those elements.
class Optimizer::ParameterConsumer : public GradientConsumer {
 public:
  ParameterConsumer(Optimizer& optimizer, std::size_t index) : optimizer_(optimizer), index_(index) {}
  void begin(const Tensor&) override { optimizer_.begin_in_backward(index_); }
  void consume(const Tensor&, std::int64_t begin, std::int64_t end, const void* values) override {
    optimizer_.consume(index_, begin, end, values);
  }

 private:
  Optimizer& optimizer_;
  std::size_t index_;
};

Optimizer::~Optimizer() { update_in_backward(false); }

void Optimizer::update_in_backward(bool enabled) {
  if (enabled == updates_in_backward()) return;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& value = parameters_[i].value;
    if (enabled) {
      check_optimisable(parameters_[i]);  // consume() runs where nothing may throw
      consumers_.push_back(std::make_shared<ParameterConsumer>(*this, i));
      value.set_gradient_consumer(consumers_.back());
    } else if (value.gradient_consumer() == consumers_[i]) {  // not replaced by another optimizer's since
      value.set_gradient_consumer(nullptr);
    }
  }
  if (!enabled) consumers_.clear();
}

void Optimizer::watch_non_finite(bool enabled) {
  watch_non_finite_ = enabled;
  non_finite_written_.store(false, std::memory_order_relaxed);
}

bool Optimizer::update_and_check(std::size_t index, void* values, const void* grad, std::int64_t begin,
                                 std::int64_t end) {
  update(index, values, grad, begin, end);
  return parameters_[index].value.dtype() == DType::f32
             ? all_finite(static_cast<const float*>(values), end - begin)
             : all_finite(static_cast<const double*>(values), end - begin);
}

void Optimizer::update_block(std::size_t index, std::byte* values, const std::byte* grad, std::int64_t begin,
                             std::int64_t end) {
  if (!watch_non_finite_) {
    update(index, values, grad, begin, end);
  } else if (!update_and_check(index, values, grad, begin, end)) {
    non_finite_written_.store(true, std::memory_order_relaxed);
  }
}

void Optimizer::count_step() {
  ++steps_;
  begin_step();
}

void Optimizer::open_for_update(std::size_t index) {
  values_.resize(parameters_.size());
  Tensor& value = parameters_[index].value;
  dispatch_floating(value.dtype(), "optimizer", [&](auto type) {
    values_[index] = reinterpret_cast<std::byte*>(value.template mutable_data<decltype(type)>());
  });
  open_state(index);
}

void Optimizer::begin_in_backward(std::size_t index) {
  if (!counted_in_backward_) {  // the first update of this step
    count_step();
    counted_in_backward_ = true;
  }
  open_for_update(index);
}

namespace {

/// Blocks of a few thousand elements: the unit of work a thread takes in an update.
constexpr std::int64_t kBlock = 8192;

/// Up to this many elements an update stays on the calling thread: the state (values, gradients, moments)
/// fits in about this core's L2 cache, where the backward pass just left it, and another core would fetch
/// its half from there through L3 (and wake up first). Larger models stream from L3 or memory, where two
/// cores' bandwidth helps.
constexpr std::int64_t kSerialUpdateElements = 256 * 1024;

}  // namespace

void Optimizer::consume(std::size_t index, std::int64_t begin, std::int64_t end, const void* grad) {
  const std::size_t bytes = dtype_size(parameters_[index].value.dtype());
  const std::int64_t elements = end - begin;
  if (elements < kSerialUpdateElements) {  // stays on this thread (above): one call, no loop around it
    const FlushSubnormals flushed;         // moment_floor.h says why
    update_block(index, values_[index] + begin * bytes, static_cast<const std::byte*>(grad), begin, end);
    return;
  }
  parallel_for((elements + kBlock - 1) / kBlock, [&](std::int64_t p) {
    const FlushSubnormals flushed;  // on the thread running the block (moment_floor.h says why)
    const std::int64_t b0 = begin + p * kBlock, b1 = std::min(end, b0 + kBlock);
    update_block(index, values_[index] + b0 * bytes, static_cast<const std::byte*>(grad) + (b0 - begin) * bytes, b0,
                 b1);
  }, cost_per_element() * elements);
}

void Optimizer::step() {
  // Blocks of every parameter in one parallel loop: LeNet-5's ten parameter tensors range from 6 to 48,000
  // elements, and a loop per tensor would leave the small ones on one thread and wake the pool ten times.
  const NoGradGuard no_grad;  // the parameters are leaves that require a gradient: written outside grad mode
  blocks_.clear();
  grads_.resize(parameters_.size());
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& p = parameters_[i];
    grads_[i] = p.value.grad();
    if (!grads_[i].defined()) continue;
    check_optimisable(p);
    open_for_update(i);
    const std::int64_t count = p.value.numel();
    for (std::int64_t b = 0; b < count; b += kBlock) blocks_.push_back({i, b, std::min(count, b + kBlock)});
    elements += count;
  }
  if (!counted_in_backward_) count_step();
  counted_in_backward_ = false;
  parallel_for(static_cast<std::int64_t>(blocks_.size()), [this](std::int64_t b) {
    const FlushSubnormals flushed;  // on the thread running the block (moment_floor.h says why)
    const Block& block = blocks_[static_cast<std::size_t>(b)];
    const std::size_t bytes = dtype_size(grads_[block.index].dtype());
    update_block(block.index, values_[block.index] + block.begin * bytes,
                 grads_[block.index].impl()->storage.get() + block.begin * bytes, block.begin, block.end);
  }, elements < kSerialUpdateElements ? 0 : cost_per_element() * elements);
  for (auto& grad : grads_) grad = Tensor();  // hold no gradient beyond the step
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p.value.zero_grad();
}

}  // namespace ag::nn
