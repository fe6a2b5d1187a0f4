#pragma once
/// Internal matrix-product kernels on contiguous row-major buffers. Loops are ordered so the innermost
/// one walks both C and B in memory order with a broadcast scalar of A: the compiler vectorises it.
#include <cstdint>
#include <vector>

namespace ag::kernels {

/// C[m,n] (+)= A[m,k] B[k,n]; overwrites C unless `accumulate`.
template <class T>
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, const T* b, T* c, bool accumulate) {
  for (std::int64_t i = 0; i < m; ++i) {
    T* crow = c + i * n;
    if (!accumulate)
      for (std::int64_t j = 0; j < n; ++j) crow[j] = 0;
    for (std::int64_t p = 0; p < k; ++p) {
      const T aip = a[i * k + p];
      const T* brow = b + p * n;
      for (std::int64_t j = 0; j < n; ++j) crow[j] += aip * brow[j];
    }
  }
}

/// C[m,n] (+)= A[k,m]^T B[k,n]; overwrites C unless `accumulate`.
template <class T>
void gemm_tn(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, const T* b, T* c, bool accumulate) {
  if (!accumulate)
    for (std::int64_t i = 0; i < m * n; ++i) c[i] = 0;
  for (std::int64_t p = 0; p < k; ++p) {
    const T* arow = a + p * m;
    const T* brow = b + p * n;
    for (std::int64_t i = 0; i < m; ++i) {
      const T api = arow[i];
      T* crow = c + i * n;
      for (std::int64_t j = 0; j < n; ++j) crow[j] += api * brow[j];
    }
  }
}

/// C[m,n] (+)= A[m,k] B[n,k]^T; overwrites C unless `accumulate`. `scratch` holds B^T between calls.
template <class T>
void gemm_nt(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, const T* b, T* c, bool accumulate,
             std::vector<T>& scratch) {
  scratch.resize(static_cast<std::size_t>(k * n));
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t p = 0; p < k; ++p) scratch[static_cast<std::size_t>(p * n + j)] = b[j * k + p];
  gemm(m, n, k, a, scratch.data(), c, accumulate);
}

}  // namespace ag::kernels
