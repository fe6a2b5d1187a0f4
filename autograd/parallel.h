#pragma once
/// How many threads the kernels spread a batch over. Results never depend on it: a batch is split into
/// chunks whose boundaries depend only on the batch size, each chunk's work is the same whichever thread
/// runs it, and partial sums are added in chunk order. So 1 and 2 threads give bitwise the same values.

namespace ag {

/// Sets the number of threads the kernels use, clamped to [1, 64]; the default is 1. The setting is for the
/// whole process; the pool's worker threads are started on first use and kept.
void set_num_threads(int threads);

/// Returns the number of threads the kernels use (set_num_threads, 1 by default).
int num_threads();

}  // namespace ag
