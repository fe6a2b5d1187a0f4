#pragma once
/// Turning a picture of one handwritten digit into an MNIST-style 28x28 digit, the way MNIST was made
/// (LeCun et al. 1998, section III-A): the digit's bounding box scaled, aspect kept, to fit 20x20 with
/// anti-aliasing, then placed in 28x28 with its centre of mass at the centre.
#include <cstdint>
#include <vector>

#include "apps/image/image.h"

namespace ag::app {

/// MNIST's sizes: the box the digit is scaled into, and the field it is centred in.
inline constexpr std::int64_t kDigitBox = 20;
inline constexpr std::int64_t kDigitField = 28;

/// Ink darkness in [0, 1] per pixel, 1 = full ink, 0 = paper: the picture with colour, polarity and contrast
/// taken out.
struct InkImage {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::vector<double> ink;  ///< [height, width]
  bool inverted = false;    ///< the picture had dark ink on light paper (its values were turned over)
};

/// A prepared digit: kDigitField x kDigitField bytes, 0 = background, 255 = ink (MNIST's convention).
struct PreparedDigit {
  std::vector<std::uint8_t> pixels;  ///< [28, 28]
  bool inverted = false;             ///< the picture had dark ink on light paper
  std::int64_t box_width = 0;        ///< the digit's bounding box in the picture, in its pixels
  std::int64_t box_height = 0;
};

/// Returns the ink of `picture` (any size, grey or colour, transparency composited onto white): grey by
/// luma (0.299 R + 0.587 G + 0.114 B); paper is the median of the border pixels, and when it is lighter than
/// mid-grey the values are turned over; then paper maps to 0 and the strongest ink to 1, and values below
/// kInkFloor (paper texture, compression noise) to 0. Throws ImageError naming `name` when there is no ink.
InkImage ink_of(const image::Image& picture, const std::string& name);

/// Ink below this fraction of the strongest is taken as paper.
inline constexpr double kInkFloor = 0.1;

/// Returns `ink` as an MNIST digit: its bounding box scaled (area-averaged) so that the longer side is 20,
/// placed in 28x28 with its centre of mass (rounded to whole pixels) at the centre.
PreparedDigit mnist_digit(const InkImage& ink);

/// Returns mnist_digit(ink_of(picture, name)).
PreparedDigit prepare_digit(const image::Image& picture, const std::string& name);

/// Returns `src` [src_h, src_w] resampled to [dst_h, dst_w] by area averaging: each output pixel is the mean
/// of the input area it covers (input pixels as unit squares), so scaling down anti-aliases.
std::vector<double> resample_area(const std::vector<double>& src, std::int64_t src_w, std::int64_t src_h,
                                  std::int64_t dst_w, std::int64_t dst_h);

}  // namespace ag::app
