#include "autograd/parallel.h"

#include "kernels/chunks.h"
#include "kernels/parallel.h"

namespace ag {

void set_num_threads(int threads) { kernels::set_thread_count(threads); }

int num_threads() { return kernels::thread_count(); }

std::int64_t batch_chunks(std::int64_t samples) { return kernels::sample_chunks(samples).count; }

void run_parallel(std::int64_t count, LoopBody body, void* context, std::int64_t work) {
  if (count <= 1 || kernels::thread_count() == 1 || work < kernels::kMinParallelWork) {
    for (std::int64_t i = 0; i < count; ++i) body(context, i);
    return;
  }
  kernels::run_chunks(count, body, context, work);
}

}  // namespace ag
