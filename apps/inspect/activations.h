#pragma once
/// What each layer of a model makes of one input: the feature maps of the paper's Fig. 4 and 13.
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace ag::app {

/// One layer's output for one sample.
struct LayerActivation {
  std::string name;             ///< the layer's name in the model ("c1", "s2", "f6", "output")
  std::vector<std::int64_t> shape;  ///< without the batch dimension: [maps, rows, cols] or [units]
  std::vector<double> values;   ///< row-major
};

/// Runs `model` on one input [1,1,S,S], layer by layer without recording, and returns the output of each
/// layer that computes something new: a layer followed by an activation layer is reported after it (the maps
/// as the next layer sees them; a layer with its activation built in is reported as it is), and shape-only
/// layers (Flatten) are skipped. The last entry is the output.
std::vector<LayerActivation> layer_activations(nn::Sequential& model, const Tensor& input);

}  // namespace ag::app
