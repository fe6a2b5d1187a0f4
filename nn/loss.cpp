#include "nn/loss.h"

#include "autograd/error.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/reduce.h"

namespace ag::nn {

LossKind parse_loss(std::string_view name) {
  if (name == "map") return LossKind::map;
  if (name == "mle") return LossKind::mle;
  if (name == "cross_entropy") return LossKind::cross_entropy;
  fail("loss", "unknown loss \"{}\"; expected map, mle or cross_entropy", name);
}

Tensor compute_loss(LossKind kind, const Tensor& output, const Tensor& target, double map_j) {
  switch (kind) {
    case LossKind::map: return rbf_map_loss(output, target, map_j);
    case LossKind::mle: return rbf_mle_loss(output, target);
    case LossKind::cross_entropy: return cross_entropy(output, target);
  }
  fail("loss", "unknown loss kind");
}

Tensor predict(LossKind kind, const Tensor& output) {
  return kind == LossKind::cross_entropy ? argmax(output, 1) : argmin(output, 1);
}

}  // namespace ag::nn
