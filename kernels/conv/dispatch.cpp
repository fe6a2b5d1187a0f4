// conv2d's two entry points: each runs the path its plan chose (plan.cpp), one file per path.
#include <vector>

#include "kernels/conv/plan.h"

namespace ag::kernels {

template <class T>
void conv2d_forward(const ConvPlan& plan, const ConvForward<T>& args) {
  const ConvPaths& paths = plan.paths<T>();
  switch (paths.layout) {
    case ConvLayout::reference: return reference_forward(plan, args);
    case ConvLayout::patch_major: return patch_major_forward(plan, args);
    case ConvLayout::im2col: return im2col_forward(plan, args);
    case ConvLayout::shifted: break;
  }
  switch (paths.forward) {
    case ShiftedKernel::along_rows: return rows_vectorised_forward(plan, args);
    case ShiftedKernel::over_maps: return maps_vectorised_forward(plan, args);
    case ShiftedKernel::grid: return grid_forward(plan, args);
    case ShiftedKernel::over_samples: return samples_vectorised_forward(plan, args);
  }
}

template <class T>
bool weight_gradient_in_blocks(const ConvPlan& plan) {
  return plan.paths<T>().layout == ConvLayout::patch_major;
}

template <class T>
void conv2d_backward(const ConvPlan& plan, const ConvBackward<T>& args) {
  if (args.w_sink && !weight_gradient_in_blocks<T>(plan)) {
    // A path that sums dL/dW per chunk: whole, then as one block.
    std::vector<T> whole(static_cast<std::size_t>(plan.outputs * plan.geo.taps()));
    ConvBackward<T> into_whole = args;
    into_whole.gw = whole.data();
    into_whole.w_sink = nullptr;
    conv2d_backward(plan, into_whole);
    return args.w_sink->send(0, plan.outputs * plan.geo.taps(), whole.data());
  }
  switch (plan.paths<T>().layout) {
    case ConvLayout::reference: return reference_backward(plan, args);
    case ConvLayout::patch_major: return patch_major_backward(plan, args);
    case ConvLayout::im2col: return im2col_backward(plan, args);
    case ConvLayout::shifted: return shifted_backward(plan, args);
  }
}

template void conv2d_forward<float>(const ConvPlan&, const ConvForward<float>&);
template void conv2d_forward<double>(const ConvPlan&, const ConvForward<double>&);
template bool weight_gradient_in_blocks<float>(const ConvPlan&);
template bool weight_gradient_in_blocks<double>(const ConvPlan&);
template void conv2d_backward<float>(const ConvPlan&, const ConvBackward<float>&);
template void conv2d_backward<double>(const ConvPlan&, const ConvBackward<double>&);

}  // namespace ag::kernels
