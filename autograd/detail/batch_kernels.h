#pragma once
/// Internal, shared by the LeNet kernels (conv2d, subsample, max_pool2d, rbf): reductions written lane by
/// lane so the compiler vectorises them without reassociating, and the fixed split of a batch into chunks.
///
/// Chunks: each chunk's work is independent of the others', so the chunk loop is the one to spread over
/// threads; parameter gradients are summed per chunk and the chunk partials then added in chunk order. The
/// boundaries depend only on the batch size, never on a thread count, so results are bitwise the same
/// however many threads run the chunks.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace ag::detail {

/// Elements of type T in one 256-bit vector register: 8 floats or 4 doubles.
template <class T>
inline constexpr int kLanes = static_cast<int>(32 / sizeof(T));

/// Returns sum_i x[i], accumulated in kLanes<T> interleaved partial sums added in a fixed order.
template <class T>
T sum_lanes(const T* x, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) acc[l] += x[i + l];
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += x[i];
  return total;
}

/// Returns sum_i a[i] b[i], accumulated like sum_lanes.
template <class T>
T dot_lanes(const T* a, const T* b, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) acc[l] += a[i + l] * b[i + l];
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

/// Returns sum_i (a[i] - b[i])^2, accumulated like sum_lanes.
template <class T>
T squared_distance(const T* a, const T* b, std::int64_t n) {
  constexpr int L = kLanes<T>;
  T acc[L] = {};
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int l = 0; l < L; ++l) {
      const T d = a[i + l] - b[i + l];
      acc[l] += d * d;
    }
  T total = 0;
  for (int l = 0; l < L; ++l) total += acc[l];
  for (; i < n; ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return total;
}

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

/// One zero-initialised buffer of `size` values per chunk, for a parameter gradient's per-chunk partial sums.
template <class T>
class ChunkPartials {
 public:
  ChunkPartials(std::int64_t chunks, std::int64_t size)
      : size_(size), values_(static_cast<std::size_t>(std::max<std::int64_t>(chunks, 1) * size), T(0)) {}
  /// Returns chunk c's buffer of size() values.
  T* chunk(std::int64_t c) { return values_.data() + c * size_; }
  std::int64_t size() const { return size_; }
  /// Writes the sum of all chunk buffers, added in chunk order, to out[0..size).
  void reduce_into(T* out) const {
    const std::int64_t chunks = static_cast<std::int64_t>(values_.size()) / std::max<std::int64_t>(size_, 1);
    std::copy(values_.begin(), values_.begin() + size_, out);
    for (std::int64_t c = 1; c < chunks; ++c) {
      const T* part = values_.data() + c * size_;
      for (std::int64_t i = 0; i < size_; ++i) out[i] += part[i];
    }
  }

 private:
  std::int64_t size_;
  std::vector<T> values_;
};

}  // namespace ag::detail
