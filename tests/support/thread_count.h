#pragma once
// Test support: the kernel thread count set for a scope.
#include <autograd/parallel.h>

/// Sets the kernel thread count while alive, then restores the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : previous_(ag::num_threads()) { ag::set_num_threads(n); }
  ~ThreadCount() { ag::set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};
