#pragma once
/// Runs the independent iterations of a loop (a batch's chunks, a tensor's blocks) on the kernel threads,
/// using the engine's own pool (thread_pool.cpp says why not OpenMP). Iteration i does the same work
/// whichever thread runs it, so a kernel that writes only iteration i's outputs (or its own partial sums,
/// added later in order) gives the same bits for any thread count.
#include <cstdint>
#include <limits>
#include <type_traits>

namespace ag::kernels {

/// Sets the number of threads the kernels use, clamped to [1, 64] (ag::set_num_threads).
void set_thread_count(int threads);

/// Returns the number of threads the kernels use (1 by default).
int thread_count();

/// A loop body as a plain function: body(context, i).
using ChunkFn = void (*)(void* context, std::int64_t i);

/// Calls body(context, i) for every i in [0, count), spread over the pool's threads (the calling thread
/// takes part). Runs serially with one thread, inside another parallel loop, when the pool is busy with
/// another thread's loop, or when the workers sleep and the loop's `work` is too small to wake them.
/// `body` must not throw.
void run_chunks(std::int64_t count, ChunkFn body, void* context, std::int64_t work);

/// Below this much work (in multiply-adds or element operations, roughly: some microseconds), a loop runs on
/// the calling thread: handing it to another thread would cost more than it saves.
inline constexpr std::int64_t kMinParallelWork = 40000;

/// Multiply-adds of a register-blocked vector product per unit of that work: such a product does about 16
/// in the time an element operation takes, so a batch-1 weight gradient stays on the caller.
inline constexpr std::int64_t kProductMultiplyAddsPerWork = 16;

/// How many parts a kernel cuts a lone block of work into (a batch of one block of samples) so that two threads
/// share it: 2 when the kernels have more than one thread, else 1, since the parts each repeat the work they
/// share (transposing the block) and one thread gains nothing from the cut. Only for kernels whose values do
/// not depend on the cut (each value computed whole in one part).
inline std::int64_t parts_of_lone_block() { return thread_count() > 1 ? 2 : 1; }

/// Calls body(i) for i in [0, count), spread over thread_count() threads when the loop's total `work` (an
/// estimate, see kMinParallelWork; unknown by default) is worth it; see run_chunks. `body` must not throw.
template <class F>
void parallel_for(std::int64_t count, F&& body, std::int64_t work = std::numeric_limits<std::int64_t>::max()) {
  if (count <= 1 || thread_count() == 1 || work < kMinParallelWork) {
    for (std::int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  using Body = std::remove_reference_t<F>;
  run_chunks(
      count, [](void* context, std::int64_t i) { (*static_cast<Body*>(context))(i); },
      const_cast<void*>(static_cast<const void*>(&body)), work);
}

}  // namespace ag::kernels
