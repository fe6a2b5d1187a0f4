#pragma once
/// The kernel threads: how many there are, and a parallel loop over them for code of your own (an
/// optimizer's update, an op's kernel). Results never depend on the count: a batch is split into chunks
/// whose boundaries depend only on the batch size, each chunk's work is the same whichever thread runs it,
/// and partial sums are added in chunk order. So 1 and 2 threads give bitwise the same values.
#include <cstdint>
#include <limits>
#include <type_traits>

namespace ag {

/// Sets the number of threads the kernels use, clamped to [1, 64]; the default is 1. The setting is for the
/// whole process; the pool's worker threads are started on first use and kept.
void set_num_threads(int threads);

/// Returns the number of threads the kernels use (set_num_threads, 1 by default).
int num_threads();

/// Returns how many chunks the kernels split a batch of `samples` into (chunk c holds samples [c samples /
/// count, (c + 1) samples / count)). A loop of your own over the same chunks (filling a batch, say) runs each
/// chunk where the kernels will then tend to run it, so its data is already in that core's cache.
std::int64_t batch_chunks(std::int64_t samples);

/// A loop body as a plain function: body(context, i).
using LoopBody = void (*)(void* context, std::int64_t i);

/// Calls body(context, i) for every i in [0, count), spread over the kernel threads when the loop's `work`
/// (roughly multiply-adds or element operations) is worth waking them; see parallel_for. Must not throw.
void run_parallel(std::int64_t count, LoopBody body, void* context, std::int64_t work);

/// Calls body(i) for i in [0, count), spread over num_threads() threads (the caller takes part) when the
/// loop's total `work` (an estimate; unknown by default) is worth it, else on the calling thread. Iterations
/// must be independent, and `body` must not throw.
template <class F>
void parallel_for(std::int64_t count, F&& body, std::int64_t work = std::numeric_limits<std::int64_t>::max()) {
  using Body = std::remove_reference_t<F>;
  run_parallel(
      count, [](void* context, std::int64_t i) { (*static_cast<Body*>(context))(i); },
      const_cast<void*>(static_cast<const void*>(&body)), work);
}

}  // namespace ag
