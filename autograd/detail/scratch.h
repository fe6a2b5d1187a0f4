#pragma once
/// Internal: per-thread scratch memory for the kernels, kept between calls, so that a training loop's steady
/// state takes no memory from the allocator for the kernels' temporary buffers.
#include <cstddef>
#include <cstdint>

namespace ag::detail {

/// The scratch buffers of a thread, by purpose. A kernel holds at most one pointer per slot at a time; the
/// partial-sum and whole-batch slots belong to the thread that starts a parallel loop, the others to the
/// thread running one of its iterations, so the two never collide. product_tail is panel_product's own.
enum class Slot : int { partials_a, partials_b, batch_a, batch_b, s0, s1, s2, s3, s4, s5, s6, product_tail, count };

/// Returns slot `slot` of the calling thread, at least `bytes` long, 64-byte aligned, contents unspecified.
/// The buffer grows to the largest size asked for and lives until the thread ends.
void* thread_scratch_bytes(Slot slot, std::size_t bytes);

/// Returns slot `slot` of the calling thread as room for n values of T (contents unspecified).
template <class T>
T* thread_scratch(Slot slot, std::int64_t n) {
  return static_cast<T*>(thread_scratch_bytes(slot, static_cast<std::size_t>(n > 0 ? n : 1) * sizeof(T)));
}

}  // namespace ag::detail
