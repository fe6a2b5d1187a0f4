#pragma once
/// The fixed codes of LeNet-5's RBF output units: one stylised 7x12 bitmap of each digit, as +-1.
#include "autograd/tensor.h"

namespace ag::models {

/// Width and height of a digit code's bitmap; 7 x 12 = 84, the size of F6.
inline constexpr std::int64_t kCodeWidth = 7;
inline constexpr std::int64_t kCodeHeight = 12;

/// Returns the ten digit codes [10,84]: +1 where the glyph is inked, -1 elsewhere, row-major 12 rows of 7.
Tensor digit_codes(DType dtype = DType::f32);

/// Returns the glyph of `digit` as 12 strings of 7 characters, '#' inked and '.' blank (for display).
const char* const* digit_glyph(int digit);

}  // namespace ag::models
