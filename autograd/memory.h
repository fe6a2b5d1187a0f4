#pragma once
/// Tensor storage is recycled: a freed tensor's memory goes to a cache, by size, and the next tensor of that
/// size takes it back. A training loop allocates the same tensors every step, so after its first step it no
/// longer calls the system allocator for tensor values (nor takes the page faults of fresh memory).
#include <cstdint>

namespace ag {

/// Counts of the storage cache since the process started (or since reset_storage_stats).
struct StorageStats {
  std::int64_t fresh_allocations = 0;  ///< storage taken from the system allocator
  std::int64_t reuses = 0;             ///< storage taken from the cache
  std::int64_t cached_bytes = 0;       ///< bytes held by the cache now, ready for reuse
  std::int64_t cached_blocks = 0;      ///< blocks held by the cache now
};

/// Returns the storage cache's counts (thread-safe).
StorageStats storage_stats();

/// Sets the allocation and reuse counts to 0 (the cached bytes and blocks stay as they are).
void reset_storage_stats();

/// Returns every cached block to the system allocator (tensors alive keep their storage).
void release_cached_storage();

/// Sets the most bytes the cache holds (default 1 GiB); storage freed beyond it goes back to the system.
void set_storage_cache_limit(std::int64_t bytes);

}  // namespace ag
