// One training step's forward and backward: the loss, and double back-propagation's penalty when it is on.
#include "apps/train/training_step.h"

#include <cmath>

#include "autograd/backward.h"
#include "autograd/ops/arithmetic.h"
#include "nn/input_gradient_penalty.h"

namespace ag::app {

// With the penalty, the images become a leaf that requires a gradient, dE/dx is computed with create_graph, and
// the objective's backward runs through that gradient's graph too: P's gradient with respect to the weights is a
// second derivative.
BatchStep forward_backward(const ModelSetup& setup, nn::Optimizer& optimizer, const data::Batch& samples,
                           double weight) {
  const Tensor images = weight > 0 ? samples.images.detach().requires_grad_(true) : samples.images;
  BatchStep step;
  step.output = setup.model->forward(images);
  const Tensor loss = nn::compute_loss(setup.loss, step.output, samples.labels, setup.map_j);
  step.loss = loss.item();
  Tensor objective = loss;
  if (weight > 0 && std::isfinite(step.loss)) {
    const Tensor penalty = nn::input_gradient_penalty(loss, images);
    step.penalty = penalty.item();
    objective = add(loss, mul(penalty, weight));
  }
  if (std::isfinite(step.loss) && std::isfinite(step.penalty)) {
    optimizer.zero_grad();
    objective.backward();
  }
  return step;
}

}  // namespace ag::app
