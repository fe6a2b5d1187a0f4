#pragma once
// Shared by the state tests: a model's whole state as bytes (to compare bitwise before and after), and a file's
// bytes read and written whole.
#include <autograd/autograd.h>
#include <models/lenet5.h>
#include <nn/module.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace test {

/// One entry of a module's state as it is: name, shape, dtype and raw bytes.
struct EntryBytes {
  std::string name, shape, dtype, bytes;
  bool operator==(const EntryBytes&) const = default;
};

/// Returns module.state() as raw bytes, entry by entry.
inline std::vector<EntryBytes> state_bytes(const ag::nn::Module& module) {
  std::vector<EntryBytes> out;
  for (const auto& [name, t] : module.state()) {
    const auto* first = reinterpret_cast<const char*>(t.impl()->storage.get());
    out.push_back({name, ag::shape_str(t.shape()), std::string(ag::dtype_name(t.dtype())),
                   std::string(first, static_cast<std::size_t>(t.numel()) * ag::dtype_size(t.dtype()))});
  }
  return out;
}

/// Returns the names of `entries`, in order.
inline std::vector<std::string> names_of(const std::vector<ag::nn::NamedTensor>& entries) {
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.name);
  return names;
}

/// Returns the raw bytes of a tensor's values.
inline std::string tensor_bytes(const ag::Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.impl()->storage.get()),
                     static_cast<std::size_t>(t.numel()) * ag::dtype_size(t.dtype()));
}

/// Returns a model of `variant` in `dtype`, its weights drawn from `seed`.
inline std::shared_ptr<ag::nn::Sequential> model_of(ag::models::Variant variant, std::uint64_t seed,
                                                    ag::DType dtype = ag::DType::f32) {
  ag::Generator gen(seed);
  return ag::models::make_model(variant, gen, dtype);
}

/// Returns a batch of two inputs for `variant`, [2,1,side,side].
inline ag::Tensor input_of(ag::models::Variant variant, ag::DType dtype = ag::DType::f32) {
  ag::Generator gen(99);
  const std::int64_t side = ag::models::input_side(variant);
  return ag::uniform({2, 1, side, side}, -0.1, 1.175, gen, dtype);
}

/// Returns the whole file.
inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Replaces the file with `bytes`.
inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace test
