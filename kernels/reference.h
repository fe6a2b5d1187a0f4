#pragma once
/// Whether this build runs the engine on the plain reference kernels alone (CMake option
/// LENETGRAD_REFERENCE_KERNELS): each op's kernel then takes its reference path, plain loops over the
/// definition, which the tests compare every fast path with.

namespace ag::kernels {

#if defined(LENETGRAD_REFERENCE_KERNELS) && LENETGRAD_REFERENCE_KERNELS
inline constexpr bool kReferenceKernels = true;
#else
inline constexpr bool kReferenceKernels = false;
#endif

/// Which implementation of a kernel runs: the fast path, or the reference (tests ask for each).
enum class Implementation { fast, reference };

/// The implementation the engine's ops use.
inline constexpr Implementation kImplementation = kReferenceKernels ? Implementation::reference : Implementation::fast;

}  // namespace ag::kernels
