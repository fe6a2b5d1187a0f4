#include "autograd/ops/matmul.h"

#include "kernels/gemm.h"
#include "autograd/graph.h"
#include "autograd/ops/internal/curvature_rules.h"
#include "autograd/ops/broadcast.h"
#include "autograd/ops/shape_ops.h"

namespace ag {

namespace {

Shape batch_shape(const Tensor& a, const Tensor& b, const Shape& batch_a, const Shape& batch_b) {
  try {
    return broadcast_shapes("matmul", batch_a, batch_b);
  } catch (const Error&) {
    fail("matmul", "batch dimensions do not broadcast: {} x {}", shape_str(a.shape()), shape_str(b.shape()));
  }
}

}  // namespace

// C = A B;  dL/dA = dL/dC B^T,  dL/dB = A^T dL/dC  (each summed over broadcast batch dimensions)
// Curvature, A [.., n, k], B [.., k, m], D = diag d2L/dC2 [.., n, m]: dC[i,j]/dA[i,p] = B[p,j] is one entry
// of B (and dC[i,j]/dB[p,j] = A[i,p] one of A), so D_A[i,p] = sum_j B[p,j]^2 D[i,j] = (D (B^2)^T)[i,p] and
// D_B[p,j] = sum_i A[i,p]^2 D[i,j] = ((A^2)^T D)[p,j], summed over broadcast batch dimensions: the backward
// rule run on D with both inputs squared (internal::bilinear_curvature).
Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() < 2 || b.dim() < 2)
    fail("matmul", "needs tensors of rank 2 or more: {} x {}", shape_str(a.shape()), shape_str(b.shape()));
  if (a.dtype() != b.dtype())
    fail("matmul", "dtypes differ: {} {} x {} {}", shape_str(a.shape()), dtype_name(a.dtype()), shape_str(b.shape()),
         dtype_name(b.dtype()));
  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  if (b.size(-2) != k) fail("matmul", "inner dimensions differ: {} x {}", shape_str(a.shape()), shape_str(b.shape()));

  const Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  const Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = batch_shape(a, b, batch_a, batch_b);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = empty(out_shape, a.dtype());

  // Each operand is read through batch strides (0 along broadcast batch dimensions).
  Shape full_a = batch, full_b = batch;
  full_a.insert(full_a.end(), {m, k});
  full_b.insert(full_b.end(), {k, n});
  const Tensor ea = batch_a == batch ? a : expand(a.detach(), full_a);
  const Tensor eb = batch_b == batch ? b : expand(b.detach(), full_b);
  const std::int64_t batches = numel_of(batch);
  dispatch_floating(a.dtype(), "matmul", [&](auto type) {
    using T = decltype(type);
    for (std::int64_t i = 0; i < batches; ++i)
      kernels::gemm<T>(m, n, k, ea.data<T>() + i * m * k, eb.data<T>() + i * k * n, out.mutable_data<T>() + i * m * n, false);
  });

  return record("matmul", out, {a, b}, with_curvature(composed([](const Tensor& g, const std::vector<Tensor>& in) {
    Tensor ga, gb;
    if (in[0].requires_grad()) ga = sum_to(matmul(g, transpose(in[1], -1, -2)), in[0].shape());
    if (in[1].requires_grad()) gb = sum_to(matmul(transpose(in[0], -1, -2), g), in[1].shape());
    return std::vector<Tensor>{ga, gb};
  }), [](const CurvatureInput& at) { return internal::bilinear_curvature(at, Activation::none); }));
}

}  // namespace ag
