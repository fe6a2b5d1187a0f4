#include "nn/optim/optimizer.h"

#include <algorithm>
#include <cmath>

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

Optimizer::~Optimizer() { update_in_backward(false); }

void Optimizer::update_in_backward(bool enabled) {
  if (enabled == updates_in_backward()) return;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    Tensor& value = parameters_[i].value;
    if (enabled)
      hooks_.push_back(value.register_post_accumulate_grad_hook([this, i](Tensor&) { update_now(i); }));
    else
      value.remove_hook(hooks_[i]);
  }
  if (!enabled) hooks_.clear();
}

void Optimizer::count_step() {
  ++steps_;
  begin_step();
}

std::int64_t Optimizer::add_blocks(std::size_t index) {
  // Blocks of a few thousand elements: the unit of work a thread takes.
  constexpr std::int64_t kBlock = 8192;
  const Parameter& p = parameters_[index];
  grads_[index] = p.value.grad();
  if (!grads_[index].defined()) return 0;
  check_optimisable(p);
  const std::int64_t count = p.value.numel();
  for (std::int64_t begin = 0; begin < count; begin += kBlock)
    blocks_.push_back({index, begin, std::min(count, begin + kBlock)});
  return count;
}

void Optimizer::update_blocks(std::int64_t elements) {
  // Up to kSerialStepElements the state (values, gradients, moments) fits in about this core's L2 cache,
  // where the backward pass just left it: another core would fetch its half from there through L3 (and wake
  // up first). Larger models stream from L3 or memory, where two cores' bandwidth helps.
  constexpr std::int64_t kSerialStepElements = 256 * 1024;
  parallel_for(static_cast<std::int64_t>(blocks_.size()), [this](std::int64_t b) {
    const FlushSubnormals flushed;  // on the thread running the block (moment_floor.h says why)
    const Block& block = blocks_[static_cast<std::size_t>(b)];
    update(block.index, parameters_[block.index].value,
           grads_[block.index].impl()->storage.get() + block.begin * dtype_size(grads_[block.index].dtype()),
           block.begin, block.end);
  }, elements < kSerialStepElements ? 0 : cost_per_element() * elements);
  blocks_.clear();
  for (auto& grad : grads_) grad = Tensor();  // hold no gradient beyond the update
}

void Optimizer::update_now(std::size_t index) {
  if (!counted_in_backward_) {  // the first update of this step
    check_optimisable(parameters_[index]);
    count_step();
    counted_in_backward_ = true;
  }
  grads_.resize(parameters_.size());
  update_blocks(add_blocks(index));
  parameters_[index].value.zero_grad();  // used: step() must not apply it again
}

void Optimizer::step() {
  // Blocks of every parameter in one parallel loop: LeNet-5's ten parameter tensors range from 6 to 48,000
  // elements, and a loop per tensor would leave the small ones on one thread and wake the pool ten times.
  blocks_.clear();
  grads_.resize(parameters_.size());
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) elements += add_blocks(i);
  if (!counted_in_backward_) count_step();
  counted_in_backward_ = false;
  update_blocks(elements);
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p.value.zero_grad();
}

}  // namespace ag::nn
