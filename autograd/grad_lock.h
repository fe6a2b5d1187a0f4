#pragma once
/// Internal to the core (tensor.cpp, backward.cpp): the lock that guards a tensor's .grad, so that backward
/// passes on several threads can accumulate into a leaf they share, and read it, without losing a gradient.
#include <mutex>

#include "autograd/tensor.h"

namespace ag {

/// Returns the mutex guarding `impl`'s .grad: one of a fixed set, chosen by address (a mutex per tensor would
/// double the size of every small tensor; a shared leaf is rare, and contention rarer).
std::mutex& grad_lock(const TensorImpl* impl);

}  // namespace ag
