#include "models/lenet5.h"

#include <vector>

#include "models/connection_table.h"
#include "models/digit_codes.h"
#include "nn/layers/activation.h"
#include "nn/layers/conv2d.h"
#include "nn/layers/linear.h"
#include "nn/layers/max_pool.h"
#include "nn/layers/rbf_output.h"
#include "nn/layers/subsampling.h"

namespace ag::models {

using namespace ag::nn;

Variant parse_variant(std::string_view name) {
  if (name == "lecun1998") return Variant::lecun1998;
  if (name == "modern") return Variant::modern;
  fail("model", "unknown variant \"{}\"; expected lecun1998 or modern", name);
}

std::string_view variant_name(Variant variant) { return variant == Variant::lecun1998 ? "lecun1998" : "modern"; }

std::int64_t input_side(Variant variant) { return variant == Variant::lecun1998 ? 32 : 28; }

std::string paper_options_text(const PaperOptions& options) {
  return std::string("input ") + (options.zero_padded_28 ? "zero_padded_28" : "padded_32") + ", subsampling " +
         (options.window_average ? "average" : "sum") + ", squash " +
         (options.subsampling_squash == Activation::sigmoid ? "sigmoid" : "scaled_tanh") + ", codes " +
         (options.random_codes ? "random" : "bitmaps") +
         (options.init == nn::Init::lecun1998 ? std::string() : ", init " + nn::init_name(options.init));
}

std::int64_t input_side(const PaperOptions& options) { return options.zero_padded_28 ? 28 : 32; }

namespace {

/// Returns ten codes [10,84] of +-1 drawn from `gen`, each element -1 or +1 with probability one half.
Tensor random_codes(Generator& gen, DType dtype) {
  std::vector<double> values(10 * kCodeWidth * kCodeHeight);
  for (double& v : values) v = gen.uniform() < 0.5 ? -1.0 : 1.0;
  return from_vector(values, {10, kCodeWidth * kCodeHeight}, dtype);
}

/// C1's settings: the paper's squashing and, with zero_padded_28, zero-padding by 2. Built in a function of its own:
/// GCC 12 under -fsanitize=thread took the options' empty connection table for uninitialised when they were built
/// inline from a value known only at run time (-Wmaybe-uninitialized, an error with LENETGRAD_WERROR).
Conv2dOptions c1_options(const PaperOptions& options) {
  Conv2dOptions c1;
  c1.padding = options.zero_padded_28 ? 2 : 0;
  c1.activation = Activation::scaled_tanh;
  return c1;
}

}  // namespace

std::shared_ptr<Sequential> lecun1998(Generator& gen, DType dtype, const PaperOptions& options) {
  // Every C and F layer, and every sub-sampling, is followed by the paper's squashing function f(a) =
  // 1.7159 tanh(2a/3): each layer applies it to its own output as it writes it (one op, not two). The options
  // change the input's padding, the sub-sampling's sum into an average, its squashing, the output codes and the
  // weights' initialisation.
  constexpr Activation squash = Activation::scaled_tanh;
  const Init init = options.init;
  const Activation pool_squash = options.subsampling_squash;
  const SubsamplingOptions pooling{.average = options.window_average};
  auto net = std::make_shared<Sequential>();
  net->add("c1", std::make_shared<Conv2d>(1, 6, 5, gen, c1_options(options), init, dtype))  // 6@28x28
      .add("s2", std::make_shared<Subsampling>(6, 2, gen, init, dtype, pool_squash, pooling))  // 6@14x14
      .add("c3", std::make_shared<Conv2d>(6, 16, 5, gen,
                                          Conv2dOptions{.table = lenet5_c3_table(), .activation = squash}, init,
                                          dtype))                                                    // 16@10x10
      .add("s4", std::make_shared<Subsampling>(16, 2, gen, init, dtype, pool_squash, pooling))       // 16@5x5
      .add("c5", std::make_shared<Conv2d>(16, 120, 5, gen, Conv2dOptions{.activation = squash}, init, dtype))  // 120@1x1
      .add("flat", std::make_shared<Flatten>())
      .add("f6", std::make_shared<Linear>(120, 84, gen, init, dtype, squash))
      .add("output",
           std::make_shared<RbfOutput>(options.random_codes ? random_codes(gen, dtype) : digit_codes(dtype)));
  return net;
}

std::shared_ptr<Sequential> modern(Generator& gen, DType dtype) {
  // ReLU after each convolution and hidden linear layer. After C1 and C3 it comes after the max-pool
  // instead, fused into it: max commutes with ReLU (the same values and gradients, bit for bit), and the
  // pool's output is a quarter of the convolution's.
  constexpr Activation relu = Activation::relu;
  auto net = std::make_shared<Sequential>();
  net->add("c1", std::make_shared<Conv2d>(1, 6, 5, gen, Conv2dOptions{.padding = 2}, Init::he, dtype))  // 6@28x28
      .add("p2", std::make_shared<MaxPool2d>(2, 2, relu))                                             // 6@14x14
      .add("c3", std::make_shared<Conv2d>(6, 16, 5, gen, Conv2dOptions{}, Init::he, dtype))           // 16@10x10
      .add("p4", std::make_shared<MaxPool2d>(2, 2, relu))                                             // 16@5x5
      .add("c5", std::make_shared<Conv2d>(16, 120, 5, gen, Conv2dOptions{.activation = relu}, Init::he, dtype))
      .add("flat", std::make_shared<Flatten>())
      .add("f6", std::make_shared<Linear>(120, 84, gen, Init::he, dtype, relu))
      .add("output", std::make_shared<Linear>(84, 10, gen, Init::xavier, dtype));
  return net;
}

std::shared_ptr<Sequential> make_model(Variant variant, Generator& gen, DType dtype, const PaperOptions& options) {
  return variant == Variant::lecun1998 ? lecun1998(gen, dtype, options) : modern(gen, dtype);
}

}  // namespace ag::models
