#include "apps/inspect/activations.h"

#include "autograd/error.h"
#include "autograd/graph.h"
#include "nn/layers/activation.h"

namespace ag::app {

namespace {

/// True for the parameter-free activation layers, which are shown with the layer before them.
bool is_activation(const nn::Module& layer) {
  return dynamic_cast<const nn::ScaledTanh*>(&layer) != nullptr || dynamic_cast<const nn::Tanh*>(&layer) != nullptr ||
         dynamic_cast<const nn::ReLU*>(&layer) != nullptr || dynamic_cast<const nn::Sigmoid*>(&layer) != nullptr;
}

}  // namespace

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
    if (i + 1 < layers.size() && is_activation(*layers[i + 1].second)) {
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
