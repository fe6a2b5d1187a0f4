#pragma once
/// 2-D convolution (cross-correlation, as in LeNet-5's C layers) with zero padding, a stride, and an
/// optional table saying which input maps each output map reads (as LeNet-5's C3 does: models/).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "autograd/ops/activation.h"
#include "autograd/tensor.h"

namespace ag {

/// Which input maps each output map of a convolution reads: an O x C table of 0/1, row o for output map o.
/// Always valid: the constructor checks it. A weight between an unconnected pair is not a parameter.
class ConnectionTable {
 public:
  /// Creates an outputs x inputs table from row-major 0/1 entries; throws ag::Error unless both sizes are
  /// >= 1, there are outputs * inputs entries, each is 0 or 1, and every output map reads some input map.
  ConnectionTable(std::int64_t outputs, std::int64_t inputs, std::vector<std::uint8_t> entries);

  /// Returns O, the number of output maps (rows).
  std::int64_t outputs() const { return outputs_; }
  /// Returns C, the number of input maps (columns).
  std::int64_t inputs() const { return inputs_; }
  /// Returns true when output map o reads input map c.
  bool connected(std::int64_t o, std::int64_t c) const {
    return entries_[static_cast<std::size_t>(o * inputs_ + c)] != 0;
  }
  /// Returns the number of connected (output map, input map) pairs.
  std::int64_t count() const;
  /// Returns the O x C entries, row-major.
  const std::vector<std::uint8_t>& entries() const { return entries_; }
  /// Returns "OxC", e.g. "16x6", the form error messages use.
  std::string size_str() const;
  /// Returns true when both tables have the same sizes and entries.
  bool operator==(const ConnectionTable&) const = default;

 private:
  std::int64_t outputs_;
  std::int64_t inputs_;
  std::vector<std::uint8_t> entries_;
};

/// The settings of conv2d beyond its tensors.
struct Conv2dOptions {
  Size2 stride = 1;    ///< step between windows along each axis (one number: both); >= 1
  Size2 padding = 0;   ///< zeros added before and after each axis (one number: all four sides); >= 0
  Size2 dilation = 1;  ///< step between a kernel's taps along each axis (1: adjacent); >= 1
  /// O x C table of connected map pairs; unset means every output map reads every input map.
  std::optional<ConnectionTable> table = std::nullopt;
  /// An activation applied to each output as it is written (while it is in the cache: no pass of its own,
  /// one graph node instead of two). The result and the gradients are bitwise those of conv2d followed by
  /// the activation op. nn::Sequential fuses a Conv2d layer and the activation after it this way.
  Activation activation = Activation::none;
};

/// Returns y[n,o,i,j] = bias[o] + sum_{c,ki,kj} weight[o,c,ki,kj] x[n,c, i sh+ki dh-ph, j sw+kj dw-pw] (zero
/// outside x), summed only over the c that options.table connects to o, for each axis's stride s, dilation d
/// and padding p: x [N,C,H,W], weight [O,C,kh,kw], bias [O] or undefined (no bias) ->
/// [N,O,(H+2ph-dh(kh-1)-1)/sh+1,(W+2pw-dw(kw-1)-1)/sw+1], then options.activation applied to it. Weights of
/// unconnected pairs are skipped and get a gradient of exactly 0. One stride and padding for both axes and
/// no dilation run on the fast kernels; other geometries on the plain reference loops (docs/performance.md).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const Conv2dOptions& options = {});

}  // namespace ag
