#pragma once
/// Internal to the core (backward.cpp): what one backward pass keeps while it runs, in the nodes and leaves it
/// reaches, reset when the pass ends or throws.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "autograd/graph.h"
#include "autograd/leaf_hooks.h"

namespace ag {

/// The nodes one backward pass reaches, each held alive (releasing a node drops its inputs, and with them its
/// producers' last owners), and the leaves with hooks or a gradient consumer it reaches; when the pass ends or
/// throws, all of them are reset to no pass.
class PassNodes {
 public:
  PassNodes();
  ~PassNodes();
  PassNodes(const PassNodes&) = delete;
  PassNodes& operator=(const PassNodes&) = delete;

  /// Adds `node` to the pass; returns false when it was already in it. Throws for a released node, or one
  /// another pass is going through.
  bool add(const std::shared_ptr<Node>& node);
  /// Counts one more use of `leaf`, which has hooks or a consumer, in the pass's graph.
  void add_leaf_use(const Tensor& leaf);

 private:
  static inline std::atomic<std::uint64_t> next_id_{1};
  std::uint64_t id_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<Tensor> leaves_;
};

}  // namespace ag
