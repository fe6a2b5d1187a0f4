#include "saved_state.h"

#include <models/lenet5.h>
#include <nn/serialize/module_state.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <unistd.h>

namespace consumer {

int saved_state_failures() {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("lenetgrad_consumer_" + std::to_string(::getpid()) + ".state");
  ag::Generator gen(1);
  auto model = ag::models::make_model(ag::models::Variant::lecun1998, gen);
  ag::nn::save_state(*model, path, "any metadata of yours");
  auto again = ag::models::make_model(ag::models::Variant::lecun1998, gen);
  const ag::nn::LoadReport report = ag::nn::load_state(*again, path);
  std::filesystem::remove(path);
  const ag::Tensor x = ag::zeros({1, 1, 32, 32});
  const bool same = model->forward(x).to_vector() == again->forward(x).to_vector();
  std::cout << "saved state: " << report.loaded.size() << " entries loaded, outputs " << (same ? "equal" : "differ")
            << ", metadata \"" << report.metadata << "\"\n";
  return same && report.metadata == "any metadata of yours" ? 0 : 1;
}

}  // namespace consumer
