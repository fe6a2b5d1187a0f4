#pragma once
/// Where a kernel sends a result it computes in blocks of elements instead of writing it whole (a weight's
/// gradient going straight to its consumer: autograd/gradient_consumer.h).
#include <cstdint>

namespace ag::kernels {

/// Takes blocks [begin, end) of a flat result, `values` pointing at element begin, from the kernel threads,
/// for disjoint blocks that cover the result once.
struct BlockSink {
  void (*take)(void* context, std::int64_t begin, std::int64_t end, const void* values) = nullptr;
  void* context = nullptr;
  /// Sends one block.
  void send(std::int64_t begin, std::int64_t end, const void* values) const { take(context, begin, end, values); }
};

}  // namespace ag::kernels
