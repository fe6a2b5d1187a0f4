#include "autograd/detail/scratch.h"

#include <algorithm>
#include <new>

namespace ag::detail {

namespace {

struct ThreadBuffers {
  void* data[static_cast<int>(Slot::count)] = {};
  std::size_t capacity[static_cast<int>(Slot::count)] = {};
  ThreadBuffers() = default;
  ThreadBuffers(const ThreadBuffers&) = delete;
  ThreadBuffers& operator=(const ThreadBuffers&) = delete;
  ~ThreadBuffers() {
    for (void* p : data)
      if (p) ::operator delete (p, std::align_val_t{64});
  }
};

}  // namespace

void* thread_scratch_bytes(Slot slot, std::size_t bytes) {
  thread_local ThreadBuffers buffers;
  const auto i = static_cast<int>(slot);
  if (buffers.capacity[i] < bytes) {
    // Grown by at least half again, so a sequence of slightly larger requests does not reallocate each time.
    const std::size_t old = buffers.capacity[i];
    const std::size_t size = (std::max(bytes, old + old / 2) + 63) / 64 * 64;
    if (buffers.data[i]) ::operator delete (buffers.data[i], std::align_val_t{64});
    buffers.data[i] = nullptr;  // stays consistent if the allocation below throws
    buffers.capacity[i] = 0;
    buffers.data[i] = ::operator new (size, std::align_val_t{64});
    buffers.capacity[i] = size;
  }
  return buffers.data[i];
}

}  // namespace ag::detail
