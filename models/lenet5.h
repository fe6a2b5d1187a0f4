#pragma once
/// LeNet-5, as published (LeCun et al. 1998) and in a modern variant.
#include <memory>
#include <string>
#include <string_view>

#include "autograd/ops/activation.h"
#include "autograd/random.h"
#include "nn/init.h"
#include "nn/module.h"

namespace ag::models {

/// The two architectures.
enum class Variant {
  lecun1998,  ///< 32x32 input; C1 S2 C3(Table I) S4 C5 F6, scaled tanh after each; RBF output on digit codes
  modern,     ///< 28x28 input, conv padding 2; ReLU, max-pool, He init, 10-way linear output (logits)
};

/// Parses "lecun1998" or "modern"; throws ag::Error naming the text otherwise.
Variant parse_variant(std::string_view name);
/// Returns "lecun1998" or "modern".
std::string_view variant_name(Variant variant);
/// Returns the input side (32 for lecun1998, 28 for modern): inputs are [N,1,side,side].
std::int64_t input_side(Variant variant);

/// Where published reproductions of LeNet-5 read the paper differently; the defaults are the paper's own.
struct PaperOptions {
  /// The input: 32x32, the 28x28 digit padded with the background value (the paper), or 28x28 with C1 zero-padding
  /// its input by 2 (the same 28x28 C1 maps; the padding is 0, not the background).
  bool zero_padded_28 = false;
  /// Sub-sampling: coefficient times the window's sum (the paper: "the four inputs ... are added"), or its average.
  bool window_average = false;
  /// The squashing function after S2 and S4: the paper's scaled tanh, or the logistic sigmoid.
  Activation subsampling_squash = Activation::scaled_tanh;
  /// The RBF output's centres: the paper's stylised digit bitmaps, or +-1 drawn at random (from the init generator,
  /// after every layer's weights, which are then the same as with the bitmaps).
  bool random_codes = false;
  /// The weights' initialisation: the paper's uniform +-2.4/F, or lecun_sqrt's +-1/sqrt(F) (EBLearn's LeNet-5, with
  /// which the paper's SDLM trains at its mu = 0.02; docs/config.md). Biases are the paper's in both.
  nn::Init init = nn::Init::lecun1998;
};

/// Returns `options` as the config's values: "input padded_32, subsampling sum, squash scaled_tanh, codes bitmaps",
/// followed by ", init lecun_sqrt" when the initialisation is not the paper's (so that older checkpoints still match).
std::string paper_options_text(const PaperOptions& options);

/// Returns the input side of lecun1998 with `options`: 32, or 28 with zero_padded_28.
std::int64_t input_side(const PaperOptions& options);

/// Returns LeNet-5 as published: [N,1,32,32] -> [N,10] squared distances to the ten digit codes
/// ([N,1,28,28] with options.zero_padded_28). 60,000 trainable parameters, 340,908 connections.
std::shared_ptr<nn::Sequential> lecun1998(Generator& gen, DType dtype = DType::f32, const PaperOptions& options = {});

/// Returns the modern variant: [N,1,28,28] -> [N,10] logits.
std::shared_ptr<nn::Sequential> modern(Generator& gen, DType dtype = DType::f32);

/// Returns the model of `variant` (`options` apply to lecun1998 only).
std::shared_ptr<nn::Sequential> make_model(Variant variant, Generator& gen, DType dtype = DType::f32,
                                           const PaperOptions& options = {});

}  // namespace ag::models
