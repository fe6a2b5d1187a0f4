#pragma once
/// Shapes: row-major, contiguous, dimensions as int64.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ag {

/// A tensor's dimensions, [d0,d1,...]: a vector of int64 that keeps up to kInlineDims of them in place, so
/// that making a tensor of such a rank allocates nothing for its shape (a training step at batch 1 makes
/// some 40 tensors, and a std::vector's allocation was one of the few each cost), and keeps more on the heap.
/// It offers the parts of std::vector's interface that shapes use, and converts from and to std::vector.
class Shape {
 public:
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;
  static constexpr std::size_t kInlineDims = 6;

  /// Creates the shape [] (a scalar's).
  Shape() = default;
  /// Creates a shape of `rank` dimensions, each `value`.
  explicit Shape(std::size_t rank, std::int64_t value = 0) { assign_count(rank, value); }
  /// Creates the shape with these dimensions, e.g. Shape{2, 3}.
  Shape(std::initializer_list<std::int64_t> dims) { assign_range(dims.begin(), dims.end()); }
  /// Creates the shape with the dimensions in [first, last).
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>>
  Shape(It first, It last) {
    assign_range(first, last);
  }
  /// Creates the shape with the dimensions in `dims`.
  Shape(const std::vector<std::int64_t>& dims) { assign_range(dims.begin(), dims.end()); }  // NOLINT: implicit
  /// Copies `other`'s dimensions (in place again when they fit).
  Shape(const Shape& other) { assign_range(other.begin(), other.end()); }
  /// Makes this shape `other`'s dimensions.
  Shape& operator=(const Shape& other) {
    if (this != &other) assign_range(other.begin(), other.end());
    return *this;
  }

  /// Returns the dimensions as a std::vector.
  std::vector<std::int64_t> to_vector() const { return {begin(), end()}; }

  /// Returns the rank (the number of dimensions).
  std::size_t size() const { return size_; }
  /// Returns true for the shape [].
  bool empty() const { return size_ == 0; }
  /// Returns the first dimension's address; the rank's dimensions follow.
  std::int64_t* data() { return size_ <= kInlineDims ? inline_ : heap_.data(); }
  /// Returns the first dimension's address; the rank's dimensions follow.
  const std::int64_t* data() const { return size_ <= kInlineDims ? inline_ : heap_.data(); }
  /// Iterators over the dimensions, first to last.
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  /// Returns dimension d (d < size()).
  std::int64_t& operator[](std::size_t d) { return data()[d]; }
  std::int64_t operator[](std::size_t d) const { return data()[d]; }
  /// Returns the first dimension (the rank must be at least 1).
  std::int64_t& front() { return data()[0]; }
  std::int64_t front() const { return data()[0]; }
  /// Returns the last dimension (the rank must be at least 1).
  std::int64_t& back() { return data()[size_ - 1]; }
  std::int64_t back() const { return data()[size_ - 1]; }

  /// Appends dimension `d`.
  void push_back(std::int64_t d) {
    if (size_ < kInlineDims) {
      inline_[size_++] = d;
      return;
    }
    auto all = to_vector();
    all.push_back(d);
    assign_range(all.begin(), all.end());
  }
  /// Removes the last dimension.
  void pop_back() { erase(end() - 1); }
  /// Inserts the dimensions in [first, last) before `pos`.
  template <class It>
  void insert(const_iterator pos, It first, It last) {
    auto all = to_vector();
    all.insert(all.begin() + (pos - begin()), first, last);
    assign_range(all.begin(), all.end());
  }
  /// Inserts `dims` before `pos`.
  void insert(const_iterator pos, std::initializer_list<std::int64_t> dims) { insert(pos, dims.begin(), dims.end()); }
  /// Removes the dimension at `pos`.
  void erase(const_iterator pos) {
    auto all = to_vector();
    all.erase(all.begin() + (pos - begin()));
    assign_range(all.begin(), all.end());
  }
  /// Makes the rank `rank`, new dimensions `value`.
  void resize(std::size_t rank, std::int64_t value = 0) {
    auto all = to_vector();
    all.resize(rank, value);
    assign_range(all.begin(), all.end());
  }
  /// Makes the shape [].
  void clear() { assign_count(0, 0); }

  /// Returns true when a and b have the same dimensions.
  friend bool operator==(const Shape& a, const Shape& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

 private:
  template <class It>
  void assign_range(It first, It last) {
    const auto n = static_cast<std::size_t>(std::distance(first, last));
    if (n <= kInlineDims) {
      std::copy(first, last, inline_);
      heap_.clear();
    } else {
      heap_.assign(first, last);
    }
    size_ = n;
  }
  void assign_count(std::size_t n, std::int64_t value) {
    if (n <= kInlineDims) {
      std::fill(inline_, inline_ + n, value);
      heap_.clear();
    } else {
      heap_.assign(n, value);
    }
    size_ = n;
  }

  std::size_t size_ = 0;
  std::int64_t inline_[kInlineDims] = {};  // the dimensions while size_ <= kInlineDims
  std::vector<std::int64_t> heap_;         // the dimensions otherwise
};

/// Returns the number of elements of a tensor of shape `shape` (1 for a scalar, shape []).
std::int64_t numel_of(const Shape& shape);

/// Returns "[d0,d1,...]", the form every error message uses.
std::string shape_str(const Shape& shape);

/// Returns the row-major strides (in elements) of `shape`.
std::vector<std::int64_t> contiguous_strides(const Shape& shape);

/// Returns the NumPy broadcast of shapes a and b; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

/// Returns the strides with which a tensor of shape `from` is read when broadcast to shape `to`
/// (0 along broadcast dimensions), aligned to the rank of `to`.
std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to);

/// Turns a possibly negative dimension index into 0..rank-1; throws naming `op` when out of range.
std::int64_t normalize_dim(std::string_view op, std::int64_t dim, std::int64_t rank);

/// A size along a map's two axes, height then width (a stride, a padding, a dilation); one number means
/// both: `options.stride = 2`, or `options.stride = {2, 1}` for 2 down and 1 across.
struct Size2 {
  std::int64_t h = 0, w = 0;
  constexpr Size2() = default;
  constexpr Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: one number for both axes, implicitly
  constexpr Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  bool operator==(const Size2&) const = default;
  /// Returns the smaller of the two.
  constexpr std::int64_t min() const { return h < w ? h : w; }
  /// Returns "2" when both axes agree, else "2x1" (height x width), for messages and summaries.
  std::string str() const { return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w); }
};

}  // namespace ag
