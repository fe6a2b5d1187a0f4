#include "kernels/float_env.h"

#if defined(__SSE__) || defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ag::kernels {

#if defined(__SSE__) || defined(__x86_64__)
namespace {
constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;  // MXCSR bits 15 and 6
}  // namespace

unsigned flush_subnormals() {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | kFlushToZero | kDenormalsAreZero);
  return saved;
}

void restore_float_mode(unsigned saved) { _mm_setcsr(saved); }
#else
unsigned flush_subnormals() { return 0; }
void restore_float_mode(unsigned) {}
#endif

}  // namespace ag::kernels
