#include "apps/inspect/activations.h"

#include "autograd/error.h"
#include "autograd/graph.h"
#include "nn/layers/activation.h"

namespace ag::app {

std::vector<LayerActivation> layer_activations(nn::Sequential& model, const Tensor& input) {
  if (input.dim() != 4 || input.size(0) != 1)
    fail("layer_activations", "expected one input [1,1,S,S], got {}", shape_str(input.shape()));
  NoGradGuard no_grad;
  const auto& layers = model.children();
  std::vector<LayerActivation> out;
  Tensor x = input;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& [name, layer] = layers[i];
    x = layer->forward(x);
    if (dynamic_cast<const nn::Flatten*>(layer.get()) != nullptr) continue;
    // Each learned layer is shown through the activation that follows it.
    if (i + 1 < layers.size() && layers[i + 1].second->as_activation() != Activation::none) {
      x = layers[i + 1].second->forward(x);
      ++i;
    }
    LayerActivation a;
    a.name = name;
    a.shape.assign(x.shape().begin() + 1, x.shape().end());
    a.values = x.to_vector();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace ag::app
