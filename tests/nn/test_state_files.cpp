// State files: save_state then load_state gives back every bit; non-strict loading reports what it skipped; and
// files that must be refused (damaged, truncated, of another format or version, of another model, crafted with a
// valid checksum but impossible contents) are refused with their message, the model unchanged.
#include <doctest/doctest.h>

#include <autograd/autograd.h>
#include <models/lenet5.h>
#include <nn/serialize/checksum.h>
#include <nn/serialize/module_state.h>
#include <nn/serialize/state_file.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "nn/state_test_support.h"
#include "support/temp_dir.h"

using ag::DType;
using ag::models::Variant;

namespace {

// A lecun1998 model and a file saved from another one, with what the model held before any load.
struct Fixture {
  test::TempDir dir;
  std::shared_ptr<ag::nn::Sequential> model = test::model_of(Variant::lecun1998, 11);
  std::vector<test::EntryBytes> before = test::state_bytes(*model);
  std::filesystem::path good = dir / "good.state";
  std::filesystem::path bad = dir / "bad.state";
  Fixture() { ag::nn::save_state(*test::model_of(Variant::lecun1998, 12), good); }

  // Returns the message load_state gives for `path`, after checking that the model did not change.
  std::string refusal(const std::filesystem::path& path, const ag::nn::LoadOptions& options = {}) {
    std::string message = "no error";
    try {
      ag::nn::load_state(*model, path, options);
    } catch (const ag::Error& e) {
      message = e.what();
    }
    CHECK(test::state_bytes(*model) == before);
    return message;
  }

  // Returns the message for a file of the good one's entries changed by `edit`.
  template <class Edit>
  std::string refusal_of_entries(Edit edit) {
    ag::nn::StateFile file = ag::nn::read_state_file(good, 1 << 20);
    edit(file.tensors);
    ag::nn::write_state_file(bad, file);
    return refusal(bad);
  }

  std::string prefix(const std::filesystem::path& path) const { return "load_state: " + path.string() + ": "; }
};

// Returns the bytes with a fresh checksum: a file damaged on purpose that the checksum does not catch.
std::string rechecked(std::string bytes) {
  bytes.resize(bytes.size() - 8);
  const std::uint64_t sum = ag::nn::fnv1a64(bytes);
  return bytes.append(reinterpret_cast<const char*>(&sum), 8);
}

// Returns a state file holding one entry "x" of float32 of `dims`, followed by `payload` bytes of values.
std::string crafted(const std::vector<std::uint64_t>& dims, std::size_t payload) {
  std::string out = "LGRDSTAT";
  const auto put = [&](auto value) { out.append(reinterpret_cast<const char*>(&value), sizeof(value)); };
  put(std::uint32_t{1});               // version
  put(std::uint32_t{1});               // entries
  put(std::uint64_t{0});               // metadata bytes
  put(std::uint32_t{1});               // name bytes
  out += "x";
  put(std::uint8_t{1});                // float32
  put(static_cast<std::uint8_t>(dims.size()));
  for (const std::uint64_t d : dims) put(d);
  out.append(payload, '\0');
  return rechecked(out + std::string(8, '\0'));
}

void remove_entry(std::vector<ag::nn::NamedTensor>& entries, const std::string& name) {
  std::erase_if(entries, [&](const ag::nn::NamedTensor& e) { return e.name == name; });
}

void replace_entry(std::vector<ag::nn::NamedTensor>& entries, const std::string& name, const ag::Tensor& value) {
  for (auto& entry : entries)
    if (entry.name == name) entry.value = value;
}

}  // namespace

TEST_CASE("save_state then load_state gives back every bit, for both variants in float32 and float64") {
  test::TempDir dir;
  for (const Variant variant : {Variant::lecun1998, Variant::modern})
    for (const DType dtype : {DType::f32, DType::f64}) {
      CAPTURE(ag::models::variant_name(variant));
      CAPTURE(ag::dtype_name(dtype));
      auto saved = test::model_of(variant, 5, dtype);
      ag::nn::save_state(*saved, dir / "model.state", "epoch=3");
      auto loaded = test::model_of(variant, 6, dtype);  // other weights
      REQUIRE_FALSE(test::state_bytes(*loaded) == test::state_bytes(*saved));
      const ag::nn::LoadReport report = ag::nn::load_state(*loaded, dir / "model.state");
      CHECK(test::state_bytes(*loaded) == test::state_bytes(*saved));
      CHECK(report.loaded == test::names_of(saved->state()));
      CHECK(report.missing.empty());
      CHECK(report.unexpected.empty());
      CHECK(report.metadata == "epoch=3");
      const ag::Tensor x = test::input_of(variant, dtype);
      CHECK(test::tensor_bytes(loaded->forward(x)) == test::tensor_bytes(saved->forward(x)));
    }
}

TEST_CASE("non-strict loading loads the entries in both and reports the others") {
  test::TempDir dir;
  auto paper = test::model_of(Variant::lecun1998, 7);
  ag::nn::save_state(*paper, dir / "paper.state");
  auto modern = test::model_of(Variant::modern, 8);
  const auto before = test::state_bytes(*modern);
  const ag::nn::LoadReport report = ag::nn::load_state(*modern, dir / "paper.state", {.strict = false});
  CHECK(report.missing == std::vector<std::string>{"output.weight", "output.bias"});
  CHECK(report.unexpected == std::vector<std::string>{"s2.coeff", "s2.bias", "s4.coeff", "s4.bias", "output.centres"});
  CHECK(report.loaded == std::vector<std::string>{"c1.weight", "c1.bias", "c3.weight", "c3.bias", "c5.weight",
                                                  "c5.bias", "f6.weight", "f6.bias"});
  // Loaded entries hold the file's bits; the missing ones are as they were.
  const auto source = test::state_bytes(*paper);
  const auto find = [](const std::vector<test::EntryBytes>& in, const std::string& name) {
    return *std::find_if(in.begin(), in.end(), [&](const test::EntryBytes& e) { return e.name == name; });
  };
  for (const auto& entry : test::state_bytes(*modern)) {
    CAPTURE(entry.name);
    const bool loaded = std::find(report.loaded.begin(), report.loaded.end(), entry.name) != report.loaded.end();
    CHECK(entry == find(loaded ? source : before, entry.name));
  }
}

TEST_CASE("damaged, truncated and foreign files are refused and leave the model as it was") {
  Fixture f;
  const std::string bytes = test::read_bytes(f.good);
  test::write_bytes(f.bad, bytes.substr(0, bytes.size() - 100));
  CHECK(f.refusal(f.bad) == f.prefix(f.bad) + "checksum mismatch: the file is corrupt or truncated");
  test::write_bytes(f.bad, bytes.substr(0, 5));
  CHECK(f.refusal(f.bad) == f.prefix(f.bad) + "truncated: 5 bytes, too short for a state file");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  test::write_bytes(f.bad, flipped);
  CHECK(f.refusal(f.bad) == f.prefix(f.bad) + "checksum mismatch: the file is corrupt or truncated");
  test::write_bytes(f.bad, "LENETCKP" + bytes.substr(8));
  CHECK(f.refusal(f.bad) == f.prefix(f.bad) + "not a lenetgrad state file (bad magic bytes)");
  std::string version_2 = bytes;
  version_2[8] = 2;
  test::write_bytes(f.bad, rechecked(version_2));
  CHECK(f.refusal(f.bad) ==
        f.prefix(f.bad) + "state file format version 2 is not supported (this build reads version 1)");
  CHECK(f.refusal(f.dir.path()) ==
        f.prefix(f.dir.path()) + "cannot read the state file: it is a directory, not a regular file");
  CHECK(f.refusal(f.good, {.max_bytes = 1000}) ==
        f.prefix(f.good) + "cannot read the state file: it holds " + std::to_string(bytes.size()) +
            " bytes, more than the 1000 that the reader allows (its max_bytes)");
  CHECK(f.refusal(f.dir / "none.state") ==
        f.prefix(f.dir / "none.state") + "cannot open the state file: No such file or directory");
}

TEST_CASE("files of another model are refused naming the entry, strict by default") {
  Fixture f;
  ag::nn::save_state(*test::model_of(Variant::modern, 13), f.bad);
  CHECK(f.refusal(f.bad) == f.prefix(f.bad) + "missing entries s2.coeff, s2.bias, s4.coeff, s4.bias, output.centres "
                                             "(the module has them, the file does not)");
  CHECK(f.refusal_of_entries([](auto& e) { remove_entry(e, "f6.bias"); }) ==
        f.prefix(f.bad) + "missing entry f6.bias (the module has it, the file does not)");
  CHECK(f.refusal_of_entries([](auto& e) { e.push_back({"extra.scale", ag::ones({3})}); }) ==
        f.prefix(f.bad) +
            "unexpected entry extra.scale (the file has it, the module does not; LoadOptions::strict = false skips it)");
  CHECK(f.refusal_of_entries([](auto& e) { replace_entry(e, "f6.bias", ag::zeros({83})); }) ==
        f.prefix(f.bad) + "entry f6.bias is [83] float32 in the file but [84] float32 in the module");
  const ag::Tensor centres_f64 = ag::zeros({10, 84}, DType::f64);
  CHECK(f.refusal_of_entries([&](auto& e) { replace_entry(e, "output.centres", centres_f64); }) ==
        f.prefix(f.bad) + "entry output.centres is [10,84] float64 in the file but [10,84] float32 in the module; "
                          "convert the module with to(float64) first");
  // A wrong dtype (or shape) is refused in non-strict mode too: the entry is in both, and cannot be loaded.
  CHECK(f.refusal(f.bad, {.strict = false}).ends_with("in the module; convert the module with to(float64) first"));
  CHECK(f.refusal_of_entries([](auto& e) {
    replace_entry(e, "f6.bias", ag::full({84}, std::numeric_limits<double>::quiet_NaN()));
  }) == f.prefix(f.bad) + "entry f6.bias holds NaN at element 0; state files hold finite values only");
}

TEST_CASE("a crafted file with a valid checksum but impossible contents is refused") {
  Fixture f;
  const auto refused = [&](const std::string& bytes) {
    test::write_bytes(f.bad, bytes);
    return f.refusal(f.bad);
  };
  CHECK(refused(crafted({60, 60}, 64)) ==
        f.prefix(f.bad) + "truncated: entry x [60,60] float32 runs past the end of the file");
  CHECK(refused(crafted({std::uint64_t{1} << 62, 4}, 64)) ==
        f.prefix(f.bad) + "entry x has a dimension of 4611686018427387904, more than the file can hold");
  CHECK(refused(crafted({4}, 24)) ==
        f.prefix(f.bad) + "8 bytes follow the last entry; the table does not describe the file");
  std::string long_name = crafted({4}, 16);
  long_name[24] = '\x7f';  // the name's length, far past the end
  CHECK(refused(rechecked(long_name)) ==
        f.prefix(f.bad) + "truncated: the name of entry 0 runs past the end of the file");
  std::string bad_dtype = crafted({4}, 16);
  bad_dtype[29] = 3;
  CHECK(refused(rechecked(bad_dtype)) ==
        f.prefix(f.bad) + "entry x has dtype code 3; expected 1 (float32) or 2 (float64)");
}

TEST_CASE("save_state refuses a NaN, and the state file format refuses what it cannot hold") {
  test::TempDir dir;
  auto model = test::model_of(Variant::modern, 14);
  {
    const ag::NoGradGuard no_grad;
    model->parameters()[1].value.mutable_data<float>()[2] = std::numeric_limits<float>::infinity();
  }
  CHECK_THROWS_WITH_AS(ag::nn::save_state(*model, dir / "m.state"),
                       ("save_state: " + (dir / "m.state").string() +
                        ": entry c1.bias holds Inf at element 2; state files hold finite values only")
                           .c_str(),
                       ag::Error);
  CHECK_FALSE(std::filesystem::exists(dir / "m.state"));
  CHECK_THROWS_WITH_AS(ag::nn::encode_state_file({{{"a", ag::ones({1})}, {"a", ag::ones({1})}}, ""}),
                       "encode_state_file: entry a is given twice", ag::Error);
  CHECK_THROWS_WITH_AS(ag::nn::encode_state_file({{{"i", ag::from_indices({1}, {1})}}, ""}),
                       "encode_state_file: entry i must be a float32 or float64 tensor", ag::Error);
  const ag::nn::StateFile empty = ag::nn::decode_state_file(ag::nn::encode_state_file({{}, "note"}), "read", "mem");
  CHECK(empty.tensors.empty());
  CHECK(empty.metadata == "note");
}
