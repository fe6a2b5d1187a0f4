#pragma once
/// The calling thread's floating-point environment, for loops that must not take the slow path of
/// subnormal numbers (an optimizer's update: nn/optim/moment_floor.h says why).

namespace ag {

/// True where FlushSubnormals changes the floating-point unit (x86): code run under it computes and stores
/// no subnormal number.
#if defined(__SSE__) || defined(__x86_64__)
inline constexpr bool kFlushesSubnormals = true;
#else
inline constexpr bool kFlushesSubnormals = false;
#endif

/// While alive, the calling thread's floating-point unit reads subnormal operands as 0 and writes 0 for
/// subnormal results (x86's DAZ and FTZ bits), as it was when made afterwards; elsewhere it does nothing.
class FlushSubnormals {
 public:
  /// Sets the flush mode, saving the previous one.
  FlushSubnormals();
  /// Restores the mode saved by the constructor.
  ~FlushSubnormals();
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_ = 0;
};

}  // namespace ag
