#include "autograd/tensor.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "autograd/memory.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
// Cached storage is poisoned, so that AddressSanitizer still reports a use of a freed tensor's values.
#define LENETGRAD_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define LENETGRAD_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define LENETGRAD_POISON(p, n) ((void)(p), (void)(n))
#define LENETGRAD_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace ag {

namespace {

/// Freed storage kept for reuse, by size (a multiple of 64 bytes). One cache for the process, behind a
/// mutex: a tensor may be freed on another thread than the one that made it, and an uncontended lock costs
/// far less than the allocation and page faults it saves. Never destroyed (tensors in static objects may be
/// freed after main returns); what it holds stays reachable, so leak checkers do not report it.
class StorageCache {
 public:
  static StorageCache& instance() {
    static auto* cache = new StorageCache;
    return *cache;
  }

  std::byte* take(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      if (std::vector<std::byte*>* blocks = find(bytes); blocks && !blocks->empty()) {
        std::byte* p = blocks->back();
        blocks->pop_back();
        cached_bytes_ -= bytes;
        --cached_blocks_;
        ++reuses_;
        LENETGRAD_UNPOISON(p, bytes);
        return p;
      }
      ++fresh_;
    }
    return static_cast<std::byte*>(::operator new[](bytes, std::align_val_t{64}));
  }

  void give(std::byte* p, std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      if (cached_bytes_ + bytes <= limit_) {
        blocks_of(bytes).push_back(p);
        LENETGRAD_POISON(p, bytes);
        cached_bytes_ += bytes;
        ++cached_blocks_;
        return;
      }
    }
    ::operator delete[](p, std::align_val_t{64});
  }

  StorageStats stats() {
    std::lock_guard lock(mutex_);
    return {fresh_, reuses_, static_cast<std::int64_t>(cached_bytes_), cached_blocks_};
  }

  void reset_stats() {
    std::lock_guard lock(mutex_);
    fresh_ = reuses_ = 0;
  }

  void release(std::size_t keep_bytes) {
    std::lock_guard lock(mutex_);
    const auto release_from = [&](std::size_t bytes, std::vector<std::byte*>& blocks) {
      while (cached_bytes_ > keep_bytes && !blocks.empty()) {
        LENETGRAD_UNPOISON(blocks.back(), bytes);
        ::operator delete[](blocks.back(), std::align_val_t{64});
        blocks.pop_back();
        cached_bytes_ -= bytes;
        --cached_blocks_;
      }
    };
    for (std::size_t line = 0; line < small_.size(); ++line) release_from((line + 1) * kLine, small_[line]);
    for (auto& [bytes, blocks] : large_) release_from(bytes, blocks);
  }

  void set_limit(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      limit_ = bytes;
    }
    release(bytes);
  }

 private:
  /// The free blocks of `bytes` (a multiple of kLine), or null when none of that size was ever cached.
  std::vector<std::byte*>* find(std::size_t bytes) {
    if (bytes <= kSmallBytes) return &small_[bytes / kLine - 1];
    const auto it = large_.find(bytes);
    return it == large_.end() ? nullptr : &it->second;
  }
  /// The free blocks of `bytes` (a multiple of kLine), made when none of that size was cached before.
  std::vector<std::byte*>& blocks_of(std::size_t bytes) {
    return bytes <= kSmallBytes ? small_[bytes / kLine - 1] : large_[bytes];
  }

  // Blocks up to kSmallBytes, the most frequent (a small batch's activations and gradients), are found by their
  // size in cache lines, without hashing; larger ones in a map.
  static constexpr std::size_t kLine = 64, kSmallBytes = 64 * 1024;
  std::mutex mutex_;
  std::array<std::vector<std::byte*>, kSmallBytes / kLine> small_;
  std::unordered_map<std::size_t, std::vector<std::byte*>> large_;
  std::size_t cached_bytes_ = 0, limit_ = std::size_t{1} << 30;
  std::int64_t cached_blocks_ = 0, fresh_ = 0, reuses_ = 0;
};

}  // namespace

/// The header in front of a block's values: the count of handles and the block's size for the cache. A whole
/// cache line, so that the values keep the block's 64-byte alignment.
struct alignas(64) Storage::Header {
  std::atomic<long> references;
  std::size_t block_bytes;  // header included
  std::atomic<std::uint64_t> version;
};

Storage::Storage(std::size_t bytes) {
  const std::size_t block_bytes = sizeof(Header) + (std::max<std::size_t>(bytes, 1) + 63) / 64 * 64;
  header_ = new (StorageCache::instance().take(block_bytes)) Header{{1}, block_bytes, {0}};
}

Storage::Storage(const Storage& other) noexcept : header_(other.header_) {
  if (header_) header_->references.fetch_add(1, std::memory_order_relaxed);
}

Storage::~Storage() {
  // acq_rel: every use of the values by other handles happens before the block is reused.
  if (header_ && header_->references.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    const std::size_t block_bytes = header_->block_bytes;
    header_->~Header();
    StorageCache::instance().give(reinterpret_cast<std::byte*>(header_), block_bytes);
  }
}

std::byte* Storage::get() const { return header_ ? reinterpret_cast<std::byte*>(header_ + 1) : nullptr; }

long Storage::use_count() const { return header_ ? header_->references.load(std::memory_order_relaxed) : 0; }

std::uint64_t Storage::version() const { return header_ ? header_->version.load(std::memory_order_relaxed) : 0; }

void Storage::bump_version() const {
  // A load and a store, not an atomic increment (a locked instruction for every op's output): two threads writing
  // the same values at once is a race on the values already, and either way the version differs from the one an
  // op saw before, which is all that backward's check asks.
  if (header_) header_->version.store(header_->version.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

StorageStats storage_stats() { return StorageCache::instance().stats(); }
void reset_storage_stats() { StorageCache::instance().reset_stats(); }
void release_cached_storage() { StorageCache::instance().release(0); }
void set_storage_cache_limit(std::int64_t bytes) {
  StorageCache::instance().set_limit(static_cast<std::size_t>(std::max<std::int64_t>(bytes, 0)));
}

}  // namespace ag
