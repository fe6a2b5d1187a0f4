#pragma once
/// The calling thread's floating-point mode (ag::FlushSubnormals is the engine's door to it).

namespace ag::kernels {

/// Makes the calling thread's floating-point unit read subnormal operands as 0 and write 0 for subnormal
/// results (x86's DAZ and FTZ bits; elsewhere nothing); returns the previous mode for restore_float_mode.
unsigned flush_subnormals();

/// Restores a mode that flush_subnormals returned.
void restore_float_mode(unsigned saved);

}  // namespace ag::kernels
