#pragma once
/// Elementwise loops over contiguous memory, written so that the compiler vectorises them, and spread over
/// the kernel threads in blocks. Elementwise results do not depend on the split.
#include <algorithm>
#include <cstdint>

#include "kernels/parallel.h"

namespace ag::kernels {

/// Elements per block of an elementwise loop spread over the kernel threads (a block is a few microseconds of
/// work, well above the cost of handing it to another thread).
inline constexpr std::int64_t kElementBlock = 16384;

/// o[i] = f(a[i]) for i < n. Its own function, with values for arguments, so the loop vectorises.
template <class T, class F>
void map_block(const T* a, T* o, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
}

/// o[i] = f(a[i], b[i]) for i < n.
template <class T, class F>
void map_block(const T* a, const T* b, T* o, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
}

/// Calls block(begin, end) over [0, n) in kElementBlock pieces, spread over the kernel threads.
template <class B>
void for_blocks(std::int64_t n, B&& block) {
  const std::int64_t blocks = (n + kElementBlock - 1) / kElementBlock;
  parallel_for(blocks, [&](std::int64_t i) { block(i * kElementBlock, std::min(n, (i + 1) * kElementBlock)); }, n);
}

}  // namespace ag::kernels
