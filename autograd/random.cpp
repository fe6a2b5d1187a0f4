#include "autograd/random.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "autograd/error.h"

namespace ag {

double Generator::normal() {
  // Box-Muller on (0, 1] x [0, 1): 1 - uniform() is never 0, so the log is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t Generator::below(std::uint64_t n) {
  // Rejection sampling removes the modulo bias.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t r;
  do r = next();
  while (r >= limit);
  return r % n;
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Generator::set_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 engine;
  in >> engine;
  if (in.fail()) throw Error("Generator::set_state: the text is not a generator state");
  engine_ = engine;
}

}  // namespace ag
