#pragma once
/// Internal to the ops: a rule's GradientBlocks as the kernels' BlockSink.
#include "autograd/gradient_consumer.h"
#include "kernels/block_sink.h"

namespace ag::internal {

/// Returns a sink that sends each block to `blocks` (which must outlive it), or null-taking sink when empty.
inline kernels::BlockSink block_sink(const GradientBlocks& blocks) {
  return {[](void* context, std::int64_t begin, std::int64_t end, const void* values) {
            static_cast<const GradientBlocks*>(context)->send(begin, end, values);
          },
          const_cast<GradientBlocks*>(&blocks)};
}

}  // namespace ag::internal
