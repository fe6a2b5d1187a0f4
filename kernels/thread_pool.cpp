#include "kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>


#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ag::kernels {

namespace {

/// Tells the core that this thread is spinning (frees resources for the other hyper-thread, saves power).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Why a pool of our own rather than OpenMP: on a machine whose cores are shared with other work, a fork-join
// region waits at its closing barrier for every thread of the team, including one the OS has not scheduled
// yet: with 2 threads under load, OpenMP's LeNet-5 training step was no faster than 1 thread's (passive
// waiting) or several times slower (active waiting; docs/performance.md). In this pool the calling thread claims chunks too, and a
// worker that wakes late finds nothing left to claim: the caller waits only for chunks a worker has started.
//
// The job is published in one 64-bit word: generation (32 bits) | first unclaimed chunk (16) | end of the
// unclaimed chunks (16). A chunk is claimed by a compare-and-swap that keeps the generation, so a claim can
// only succeed for the job still published, and that job cannot end (nor its body, on the caller's stack, go
// away) before the claimed chunk is reported done.
//
// The caller claims chunks from the front, the workers from the back. Consecutive loops over the same
// chunks (a batch's samples, op after op, forward then backward) then give a chunk to the same thread each
// time unless the two ends meet elsewhere, so its data stays in that core's cache instead of moving between
// cores; which thread runs a chunk never changes its result.
class Pool {
 public:
  static Pool& instance() {
    static auto* pool = new Pool;  // never destroyed: workers may still be asleep in it at exit
    return *pool;
  }

  /// Runs body(context, i) for i < count on up to `threads` threads; returns false (having run nothing) when
  /// the pool is busy with another caller, so the caller runs the loop itself.
  bool run(int threads, std::int64_t count, ChunkFn body, void* context, std::int64_t estimate) {
    std::unique_lock busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    if (!cores_free()) return false;  // the cores are shared with other programs: no workers (they go to sleep)
    if (serial_loops_ > 0) {          // backing off (back_off_if_starved): this loop runs on this thread alone
      --serial_loops_;
      return false;
    }
    // A small loop is worth handing over only to a worker that is awake: waking one takes a system call on
    // this thread and tens of microseconds before it runs (a batch-1 step has a few such loops, each shorter).
    // It is still a sign that loops are coming: the workers are nudged awake (without waiting for them), so that
    // the next loop finds them spinning.
    if (estimate < kWakeWork && spinning_.load(std::memory_order_relaxed) == 0 && !workers_.empty()) {
      if (sleepers_.load(std::memory_order_relaxed) > 0) {
        nudges_.fetch_add(1, std::memory_order_relaxed);
        wake_.notify_all();
      }
      return false;
    }
    ensure_workers(threads - 1);
    helpers_.store(threads - 1, std::memory_order_relaxed);  // published with the job below
    body_ = body;
    context_ = context;
    done_.store(0, std::memory_order_relaxed);
    ++generation_;
    state_.store(pack(generation_, 0, count), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard lock(mutex_); }  // a worker between its check and its wait now sees the new job
      wake_.notify_all();
    }
    const auto start = Clock::now();
    in_pool_job = true;
    work(generation_, End::front);
    in_pool_job = false;
    const auto worked = Clock::now();
    if (done_.load(std::memory_order_acquire) < count) {
      for (int spins = 0; done_.load(std::memory_order_acquire) < count; ++spins) {
        if (spins < kSpins)
          cpu_relax();
        else
          std::this_thread::yield();  // a worker holding a chunk was descheduled: let it run
      }
      back_off_if_starved(worked - start, Clock::now() - worked);
    } else if (strikes_ > 0) {
      --strikes_;
    }
    return true;
  }

 private:
  static std::uint64_t pack(std::uint32_t generation, std::int64_t front, std::int64_t back) {
    return (std::uint64_t{generation} << 32) | (static_cast<std::uint64_t>(front) << 16) |
           static_cast<std::uint64_t>(back);
  }
  static std::uint32_t generation_of(std::uint64_t s) { return static_cast<std::uint32_t>(s >> 32); }

  using Clock = std::chrono::steady_clock;

  /// How long the caller spins waiting for a worker's chunk before it yields: about 35 us at 35 ns a pause.
  /// Short, because on cores shared with other programs a spinning thread takes time from them and from the
  /// worker it waits for.
  static constexpr int kSpins = 1000;

  /// How long a worker spins for the next job before it sleeps: about 100 us, more than the gap between two
  /// optimizer steps at batch 1, so a worker once awake stays ready for them.
  static constexpr int kWorkerSpins = 3000;

  /// Below this much work (parallel_for's estimate) a loop is not worth waking a worker.
  static constexpr std::int64_t kWakeWork = 500000;

  /// Counts a strike when the caller waited for the workers' chunks longer than a third of its own work (and
  /// over 50 us): on cores shared with other programs a worker that holds a chunk may be descheduled for a
  /// whole time slice, and waiting for it costs more than the loop. After 3 strikes in a row the next 200
  /// loops run on the calling thread alone, then the workers are tried again. Results are the same either way.
  void back_off_if_starved(Clock::duration worked, Clock::duration waited) {
    if (waited > std::chrono::microseconds(50) && 3 * waited > worked) {
      if (++strikes_ >= 3) {
        strikes_ = 0;
        serial_loops_ = 200;
      }
    } else if (strikes_ > 0) {
      --strikes_;
    }
  }

  /// Returns false while the calling thread is short of CPU time. Over windows of about 20 ms it compares the
  /// thread's CPU time with the wall time: below three quarters, the cores are shared with other programs (or
  /// a spinning worker takes this thread's core), where a worker slows the caller down instead of helping
  /// (2 threads ran slower than 1 when another program kept one of the two cores busy). Then the next 200 ms
  /// run serially, and the workers are tried again.
  bool cores_free() {
    const auto now = Clock::now();
    const auto self = std::this_thread::get_id();
    if (self != window_thread_) {  // another caller: start a window of its own
      window_thread_ = self;
      window_start_ = now;
      window_cpu_ = thread_cpu_time();
    } else if (now - window_start_ >= std::chrono::milliseconds(20)) {
      const auto cpu = thread_cpu_time();
      if (4 * (cpu - window_cpu_) < 3 * (now - window_start_)) serial_until_ = now + std::chrono::milliseconds(200);
      window_start_ = now;
      window_cpu_ = cpu;
    }
    return now >= serial_until_;
  }

  /// The CPU time of the calling thread.
  static Clock::duration thread_cpu_time() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(ts.tv_sec) +
                                                       std::chrono::nanoseconds(ts.tv_nsec));
  }

  /// Which end of the unclaimed chunks a thread takes from: the caller the front, the workers the back.
  enum class End { front, back };

  /// Claims and runs chunks of job `generation` from `end` until none is left.
  void work(std::uint32_t generation, End end) {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    while (generation_of(s) == generation) {
      const std::int64_t front = static_cast<std::int64_t>((s >> 16) & 0xffff),
                         back = static_cast<std::int64_t>(s & 0xffff);
      if (front >= back) return;
      const bool from_front = end == End::front;
      const std::uint64_t claimed = from_front ? s + (std::uint64_t{1} << 16) : s - 1;
      if (!state_.compare_exchange_weak(s, claimed, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      body_(context_, from_front ? front : back - 1);
      done_.fetch_add(1, std::memory_order_acq_rel);
      s = state_.load(std::memory_order_acquire);
    }
  }

  void ensure_workers(int wanted) {
    while (static_cast<int>(workers_.size()) < wanted) {
      // Made before the next job is published: a worker starting late must still see that job as new.
      const int index = static_cast<int>(workers_.size());
      const std::uint32_t seen = generation_;
      workers_.emplace_back([this, index, seen] { worker_loop(index, seen); });
    }
  }

  /// Worker `index` waits for jobs after generation `seen` and takes part in those that want more than `index`
  /// helpers.
  void worker_loop(int index, std::uint32_t seen) {
    in_pool_job = true;  // a worker running a chunk never starts a nested parallel loop
    while (true) {
      // Spin a while for the next job (the next op of a training step comes within microseconds), then sleep.
      std::uint32_t current = seen;
      spinning_.fetch_add(1, std::memory_order_relaxed);
      for (int spins = 0; spins < kWorkerSpins && current == seen; ++spins) {
        cpu_relax();
        current = generation_of(state_.load(std::memory_order_acquire));
      }
      spinning_.fetch_sub(1, std::memory_order_relaxed);
      if (current == seen) {
        std::unique_lock lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        const std::uint64_t nudged = nudges_.load(std::memory_order_relaxed);
        wake_.wait(lock, [&] {
          return generation_of(state_.load(std::memory_order_seq_cst)) != seen ||
                 nudges_.load(std::memory_order_relaxed) != nudged;
        });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        current = generation_of(state_.load(std::memory_order_acquire));
        if (current == seen) continue;  // nudged: spin again for the job expected soon
      }
      seen = current;
      if (index < helpers_.load(std::memory_order_relaxed)) work(seen, End::back);
    }
  }

  std::mutex busy_;  // held by the caller of run() for the whole job
  std::vector<std::thread> workers_;
  std::uint32_t generation_ = 0;
  std::atomic<std::uint64_t> state_{0};
  std::atomic<std::int64_t> done_{0};
  ChunkFn body_ = nullptr;
  void* context_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<int> spinning_{0};  // workers spinning for the next job, awake and ready
  std::atomic<std::uint64_t> nudges_{0};  // bumped to wake sleeping workers without a job (see run)
  std::atomic<int> helpers_{0};  // how many workers the current job wants (fewer than exist after a decrease)
  int strikes_ = 0;               // guarded by busy_, as are serial_loops_ and the CPU-time window
  int serial_loops_ = 0;
  std::thread::id window_thread_;
  Clock::time_point window_start_{}, serial_until_{};
  Clock::duration window_cpu_{};

 public:
  static thread_local bool in_pool_job;
};

thread_local bool Pool::in_pool_job = false;

// Relaxed is enough: the count is read when a loop starts, and any value read gives the same results.
std::atomic<int> threads_in_use{1};

}  // namespace

void set_thread_count(int threads) { threads_in_use.store(std::clamp(threads, 1, 64), std::memory_order_relaxed); }

int thread_count() { return threads_in_use.load(std::memory_order_relaxed); }

void run_chunks(std::int64_t count, ChunkFn body, void* context, std::int64_t work) {
  const int threads = thread_count();
  if (threads > 1 && count > 1 && !Pool::in_pool_job) {
    // The packed state holds counts below 2^16; a longer loop goes in several jobs.
    constexpr std::int64_t kMaxJob = 0xffff;
    for (std::int64_t first = 0; first < count; first += kMaxJob) {
      const std::int64_t n = std::min(kMaxJob, count - first);
      struct Offset {
        ChunkFn body;
        void* context;
        std::int64_t first;
      } offset{body, context, first};
      const auto shifted = [](void* c, std::int64_t i) {
        auto* o = static_cast<Offset*>(c);
        o->body(o->context, o->first + i);
      };
      if (!Pool::instance().run(threads, n, shifted, &offset, work))
        for (std::int64_t i = 0; i < n; ++i) body(context, first + i);
    }
    return;
  }
  for (std::int64_t i = 0; i < count; ++i) body(context, i);
}

}  // namespace ag::kernels
