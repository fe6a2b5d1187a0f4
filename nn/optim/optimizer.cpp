#include "nn/optim/optimizer.h"

#include <algorithm>
#include <cmath>

#include "autograd/detail/parallel.h"
#include "autograd/gradient_stream.h"
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

/// The gradient stream of parameter `index` (update_in_backward): each block the backward rule hands over is
/// an update of those elements.
class Optimizer::ParameterStream : public GradientStream {
 public:
  ParameterStream(Optimizer& optimizer, std::size_t index) : optimizer_(optimizer), index_(index) {}

  void begin() override {
    check_optimisable(optimizer_.parameters_[index_]);
    if (!optimizer_.counted_in_backward_) {  // the first update of this step
      optimizer_.count_step();
      optimizer_.counted_in_backward_ = true;
    }
  }

  void take(std::int64_t begin, std::int64_t end, const void* values) override {
    const SubnormalsFlushed flushed;  // on the thread running the block (moment_floor.h says why)
    optimizer_.update(index_, optimizer_.parameters_[index_].value, values, begin, end);
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
      streams_.push_back(std::make_shared<ParameterStream>(*this, i));
      value.set_gradient_stream(streams_.back());
    } else if (value.gradient_stream() == streams_[i]) {  // not replaced by another optimizer's since
      value.set_gradient_stream(nullptr);
    }
  }
  if (!enabled) streams_.clear();
}

void Optimizer::count_step() {
  ++steps_;
  begin_step();
}

void Optimizer::step() {
  // Blocks of every parameter in one parallel loop: LeNet-5's ten parameter tensors range from 6 to 48,000
  // elements, and a loop per tensor would leave the small ones on one thread and wake the pool ten times.
  // At batch 1 the update is a fifth of a training step.
  constexpr std::int64_t kBlock = 8192;
  blocks_.clear();
  grads_.resize(parameters_.size());
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& p = parameters_[i];
    grads_[i] = p.value.grad();
    if (!grads_[i].defined()) continue;
    check_optimisable(p);
    const std::int64_t count = p.value.numel();
    for (std::int64_t begin = 0; begin < count; begin += kBlock) blocks_.push_back({i, begin, std::min(count, begin + kBlock)});
    elements += count;
  }
  if (!counted_in_backward_) count_step();
  counted_in_backward_ = false;
  // Up to kSerialStepElements the state (values, gradients, moments) fits in about this core's L2 cache,
  // where the backward pass just left it: another core would fetch its half from there through L3 (and
  // wake up first). Measured on LeNet-5 (61,706 parameters) at batch 1 with 2 threads: 20,200 to 20,800
  // samples/s on one thread against 13,800 to 19,600 split. Larger models stream from L3 or memory,
  // where two cores' bandwidth helps.
  constexpr std::int64_t kSerialStepElements = 256 * 1024;
  detail::parallel_for(static_cast<std::int64_t>(blocks_.size()), [this](std::int64_t b) {
    const SubnormalsFlushed flushed;  // on the thread running the block (moment_floor.h says why)
    const Block& block = blocks_[static_cast<std::size_t>(b)];
    update(block.index, parameters_[block.index].value,
           grads_[block.index].impl()->storage.get() + block.begin * dtype_size(grads_[block.index].dtype()),
           block.begin, block.end);
  }, elements < kSerialStepElements ? 0 : cost_per_element() * elements);
  for (auto& grad : grads_) grad = Tensor();  // hold no gradient beyond the step
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_) p.value.zero_grad();
}

}  // namespace ag::nn
