#pragma once
/// Kernels' scratch memory: buffers kept per thread between calls, so that a training loop's steady state
/// takes no memory from the allocator for the kernels' temporary values. Each kernel names its buffers in a
/// struct of its own (e.g. GridScratch's `padded` and `grids`), so two kernels' buffers never collide, and
/// gets the calling thread's instance with thread_scratch<Struct>().
#include <cstddef>
#include <cstdint>

namespace ag::kernels {

/// A growable, 64-byte aligned buffer, kept until its thread ends; contents unspecified.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer();

  /// Returns room for n values of T (at least one), growing the buffer when it is smaller.
  template <class T>
  T* get(std::int64_t n) {
    return static_cast<T*>(bytes(static_cast<std::size_t>(n > 0 ? n : 1) * sizeof(T)));
  }

 private:
  void* bytes(std::size_t size);
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/// Returns the calling thread's instance of `Buffers` (a struct of ScratchBuffer members).
template <class Buffers>
Buffers& thread_scratch() {
  thread_local Buffers buffers;
  return buffers;
}

}  // namespace ag::kernels
