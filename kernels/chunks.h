#pragma once
/// The fixed split of a batch into chunks, and per-chunk partial sums of a parameter's gradient.
///
/// Each chunk's work is independent of the others', so the chunk loop is the one to spread over threads;
/// parameter gradients are summed per chunk and the chunk partials then added in chunk order. The
/// boundaries depend only on the batch size, never on a thread count, so results are bitwise the same
/// however many threads run the chunks.
#include <algorithm>
#include <cstdint>

#include "kernels/scratch.h"

namespace ag::kernels {

/// The most chunks a batch is split into (a batch of N < this has N chunks of one sample).
inline constexpr std::int64_t kMaxSampleChunks = 8;

/// Samples [begin(c), end(c)) form chunk c, for c < count.
struct SampleChunks {
  std::int64_t samples = 0;
  std::int64_t count = 0;
  std::int64_t begin(std::int64_t c) const { return c * samples / count; }
  std::int64_t end(std::int64_t c) const { return (c + 1) * samples / count; }
};

/// Returns the split of `samples` samples into min(samples, kMaxSampleChunks) near-equal chunks.
inline SampleChunks sample_chunks(std::int64_t samples) { return {samples, std::min(samples, kMaxSampleChunks)}; }

/// One buffer of `size` values per chunk, for a parameter gradient's per-chunk partial sums, in a scratch buffer
/// of the thread that makes it (the one that starts the parallel loop over chunks). With a single chunk the
/// buffer is the output itself, so nothing is copied.
template <class T>
class ChunkPartials {
 public:
  /// Buffers for `chunks` partial sums of out[0..size) (out may be null when size is 0), zeroed unless
  /// `zeroed` is false (for kernels that overwrite their chunk's buffer; an empty batch is zeroed anyway),
  /// taken from `scratch`, a buffer of the calling thread's.
  ChunkPartials(std::int64_t chunks, T* out, std::int64_t size, ScratchBuffer& scratch, bool zeroed = true)
      : size_(size), chunks_(std::max<std::int64_t>(chunks, 1)), out_(out),
        values_(chunks_ == 1 && out ? out : scratch.get<T>(chunks_ * size)) {
    if (zeroed || chunks <= 0) std::fill_n(values_, chunks_ * size_, T(0));  // no chunk: the sum is 0
  }
  ChunkPartials(const ChunkPartials&) = delete;
  ChunkPartials& operator=(const ChunkPartials&) = delete;
  /// Returns chunk c's buffer of size() values.
  T* chunk(std::int64_t c) { return values_ + c * size_; }
  std::int64_t size() const { return size_; }
  /// Writes the sum of all chunk buffers, added in chunk order, to the output (nothing to do for one chunk).
  void reduce() const {
    if (!out_ || values_ == out_) return;
    std::copy(values_, values_ + size_, out_);
    for (std::int64_t c = 1; c < chunks_; ++c) {
      const T* part = values_ + c * size_;
      for (std::int64_t i = 0; i < size_; ++i) out_[i] += part[i];
    }
  }

 private:
  std::int64_t size_;
  std::int64_t chunks_;
  T* out_;
  T* values_;
};

}  // namespace ag::kernels
