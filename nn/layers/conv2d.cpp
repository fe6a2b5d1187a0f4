#include "nn/layers/conv2d.h"

#include <fmt/format.h>

#include <algorithm>

#include "nn/layers/activation.h"

namespace ag::nn {

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, Generator& gen,
               Conv2dOptions options, Init init, DType dtype)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_(kernel),
      options_(std::move(options)) {
  if (in_channels <= 0 || out_channels <= 0 || kernel <= 0)
    fail("Conv2d", "channels and kernel must be positive, got {}->{} with kernel {}", in_channels, out_channels, kernel);
  if (options_.table && (options_.table->outputs() != out_channels || options_.table->inputs() != in_channels))
    fail("Conv2d", "connection table {} does not match {} output x {} input maps", options_.table->size_str(),
         out_channels, in_channels);
  weight = zeros({out_channels, in_channels, kernel, kernel}, dtype);
  bias = empty({out_channels}, dtype);
  const std::int64_t window = kernel * kernel;
  for (std::int64_t o = 0; o < out_channels; ++o) {
    const std::int64_t fan_in = inputs_of(o) * window;
    for (std::int64_t c = 0; c < in_channels; ++c) {
      if (options_.table && !options_.table->connected(o, c)) continue;  // not a parameter: stays 0
      Tensor slice = empty({window}, dtype);
      init_weight(slice, init, fan_in, out_channels * window, gen);
      dispatch_floating(dtype, "Conv2d", [&](auto type) {
        using T = decltype(type);
        std::copy_n(slice.data<T>(), window, weight.mutable_data<T>() + (o * in_channels + c) * window);
      });
    }
    Tensor one = empty({1}, dtype);
    init_bias(one, init, fan_in, gen);
    dispatch_floating(dtype, "Conv2d", [&](auto type) {
      using T = decltype(type);
      bias.mutable_data<T>()[o] = one.data<T>()[0];
    });
  }
  const std::int64_t connected = options_.table ? options_.table->count() : in_channels * out_channels;
  register_parameter("weight", weight, connected * window);
  register_parameter("bias", bias);
}

std::int64_t Conv2d::inputs_of(std::int64_t o) const {
  if (!options_.table) return in_channels_;
  std::int64_t n = 0;
  for (std::int64_t c = 0; c < in_channels_; ++c) n += options_.table->connected(o, c) ? 1 : 0;
  return n;
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options_); }

std::string Conv2d::describe() const {
  std::string text = fmt::format("Conv2d({}->{}, {}x{}", in_channels_, out_channels_, kernel_, kernel_);
  if (options_.stride != 1) text += fmt::format(", stride {}", options_.stride.str());
  if (options_.padding != 0) text += fmt::format(", pad {}", options_.padding.str());
  if (options_.dilation != 1) text += fmt::format(", dilation {}", options_.dilation.str());
  if (options_.table) text += fmt::format(", table {}", options_.table->size_str());
  return text + then_text(options_.activation) + ")";
}

std::int64_t Conv2d::connections(const Shape&, const Shape& out) const {
  // Each output unit of map o sums inputs_of(o) windows of k x k, plus its bias.
  const std::int64_t positions = out[2] * out[3];
  std::int64_t per_position = 0;
  for (std::int64_t o = 0; o < out_channels_; ++o) per_position += inputs_of(o) * kernel_ * kernel_ + 1;
  return positions * per_position;
}

}  // namespace ag::nn
