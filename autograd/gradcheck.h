#pragma once
/// gradcheck: proves a function's backward against central differences in float64, like
/// torch.autograd.gradcheck, for every input that requires a gradient.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace ag {

/// A function under test: tensors in, one tensor (any shape) out.
using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;   ///< central-difference step
  double atol = 1e-5;  ///< passes when |analytical - numerical| <= atol + rtol |numerical|
  double rtol = 1e-3;
  /// Compare random projections v^T J u instead of the full Jacobian (for large inputs).
  bool fast_mode = false;
  int projections = 4;     ///< random (u, v) pairs per input in fast mode
  std::uint64_t seed = 0;  ///< seeds the fast mode's directions
  std::string name;        ///< the op named in reports; defaults to the op that made the output
};

struct GradcheckResult {
  bool passed = true;
  std::string message;  ///< on failure: the op, the input, the element and both values
  explicit operator bool() const { return passed; }
};

/// Writes "passed" or the failure message, so that doctest's CHECK(gradcheck(...)) shows why it failed.
std::ostream& operator<<(std::ostream& out, const GradcheckResult& result);

/// Returns whether backward's Jacobian of f at `inputs` (float64) matches central differences, for each
/// input with requires_grad. Fails also when the analytical gradient is all zero where the numerical
/// one is not, and when two backward passes differ. Inputs are perturbed and restored in place.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace ag
