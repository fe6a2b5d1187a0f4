#include "kernels/scratch.h"

#include <algorithm>
#include <new>

namespace ag::kernels {

ScratchBuffer::~ScratchBuffer() {
  if (data_) ::operator delete(data_, std::align_val_t{64});
}

void* ScratchBuffer::bytes(std::size_t size) {
  if (capacity_ < size) {
    // Grown by at least half again, so a sequence of slightly larger requests does not reallocate each time.
    const std::size_t grown = (std::max(size, capacity_ + capacity_ / 2) + 63) / 64 * 64;
    if (data_) ::operator delete(data_, std::align_val_t{64});
    data_ = nullptr;  // stays consistent if the allocation below throws
    capacity_ = 0;
    data_ = ::operator new(grown, std::align_val_t{64});
    capacity_ = grown;
  }
  return data_;
}

}  // namespace ag::kernels
