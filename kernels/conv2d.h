#pragma once
/// conv2d's kernels, behind one door: the op (autograd/ops/conv2d.cpp) asks for the plan of its shape once
/// and then runs the forward and backward through it. Which path runs for a shape is decided in
/// kernels/conv/plan.cpp (choose_paths), and each path lives in a file of its own in kernels/conv/.
#include <cstdint>
#include <memory>
#include <span>

#include "kernels/activation.h"
#include "kernels/block_sink.h"

namespace ag::kernels {

/// The shape of one convolution call, all a plan depends on: input maps C of H x W, O output maps, kh x kw
/// kernels, the stride, zero padding and dilation along each axis, and the O x C connection table's 0/1
/// entries (row-major; empty for none).
struct ConvShape {
  std::int64_t channels = 0, height = 0, width = 0, outputs = 0, kh = 0, kw = 0;
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  std::span<const std::uint8_t> table;
};

/// How one call computes (kernels/conv/plan.h).
struct ConvPlan;

/// Returns the plan for `shape`: from a per-thread cache of recent plans when one matches (comparing it
/// allocates nothing), else a new one, which replaces the oldest.
std::shared_ptr<const ConvPlan> conv_plan(const ConvShape& shape);

/// The forward's operands: x [N,C,H,W], w [O,C,kh,kw], bias [O] or null; y [N,O,OH,OW] is written, then
/// `activation` applied to it.
template <class T>
struct ConvForward {
  std::int64_t batch = 0;
  const T* x = nullptr;
  const T* w = nullptr;
  const T* bias = nullptr;
  Activation activation = Activation::none;
  T* y = nullptr;
};

/// The backward's operands: the forward's x and w, dL/dy g_out [N,O,OH,OW] and, with an activation, the
/// forward's output y (its gradient is written from it); dL/dx [N,C,H,W], dL/dW [O,C,kh,kw] and dL/dbias [O]
/// are written where not null (unconnected weights get exactly 0), dL/dW to w_sink instead of gw when one is
/// given (block by block where the plan computes it so, weight_gradient_in_blocks; after dL/dx has read w).
template <class T>
struct ConvBackward {
  std::int64_t batch = 0;
  const T* x = nullptr;
  const T* w = nullptr;
  const T* g_out = nullptr;
  const T* y = nullptr;
  Activation activation = Activation::none;
  T* gx = nullptr;
  T* gw = nullptr;
  T* gb = nullptr;
  const BlockSink* w_sink = nullptr;
};

/// y = activation(conv(x, w) + bias), as `plan` says (ConvForward has the shapes).
template <class T>
void conv2d_forward(const ConvPlan& plan, const ConvForward<T>& args);

/// Returns true when `plan` computes dL/dW in blocks of rows for element type T (to a BlockSink, without
/// storing it whole).
template <class T>
bool weight_gradient_in_blocks(const ConvPlan& plan);

/// dL/dx, dL/dW and dL/dbias from dL/dy, as `plan` says (ConvBackward has the shapes).
template <class T>
void conv2d_backward(const ConvPlan& plan, const ConvBackward<T>& args);

}  // namespace ag::kernels
