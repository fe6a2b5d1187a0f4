// The report page from runs the test trains on small data it writes itself: what each section shows and counts,
// a resumed run's whole history, a run without a checkpoint, the distortion grid, the charts' axes.
#include <doctest/doctest.h>

#include <apps/report/charts.h>
#include <apps/report/html.h>
#include <apps/report/report.h>
#include <apps/report/run_report.h>
#include <apps/report/sections.h>
#include <apps/train/config.h>
#include <apps/train/evaluation.h>
#include <apps/train/file_output.h>
#include <apps/train/output_folder.h>
#include <apps/train/trainer.h>
#include <apps/train/training_step.h>
#include <nn/data/distortion.h>
#include <apps/inspect/trained_run.h>

#include <sys/stat.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "support/idx_writer.h"
#include "support/temp_dir.h"

using test::TempDir;

namespace {

nlohmann::json config_for(const TempDir& dir, const std::string& variant, int epochs, double lr = 0.002) {
  nlohmann::json doc = {{"model", {{"variant", variant}}},
                        {"data", {{"dir", dir.path().string()}}},
                        {"train", {{"epochs", epochs}, {"batch_size", 16}, {"seed", 3}}},
                        {"output", {{"dir", (dir / "run").string()}, {"progress", "lines"}}}};
  doc["train"]["optimizer"] = {{"name", "adam"}, {"lr", lr}};
  return ag::app::resolve_config(doc, "test config");
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string read_text(const std::filesystem::path& path) {
  std::ostringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a resumed run's report counts what its model does and shows the whole history") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 96, 11);
  // A slow rate, so that the model still makes mistakes to count.
  ag::app::train(config_for(dir, "modern", 2, 1e-4), false);
  ag::app::train(config_for(dir, "modern", 3, 1e-4), true);  // continues to epoch 3
  const auto data = ag::app::gather_report(dir / "run");
  REQUIRE(data.model);
  CHECK(data.files.metrics.size() == 3);
  CHECK(data.model->epoch == 3);

  // The confusion matrix is the one evaluate_lenet computes for the same checkpoint.
  auto run = ag::app::load_trained_run(dir / "run");
  const auto test_set = ag::app::load_split(run.config, "test");
  const auto expected = ag::app::evaluate(*run.setup.model, run.setup.loss, run.setup.map_j, test_set, run.setup.norm);
  CHECK(data.model->confusion == expected.confusion);
  std::int64_t errors = 0;
  for (std::size_t t = 0; t < 10; ++t)
    for (std::size_t p = 0; p < 10; ++p) errors += t == p ? 0 : expected.confusion[t][p];
  CHECK(errors > 0);
  CHECK(static_cast<std::int64_t>(data.model->mistakes.size()) == errors);
  for (const auto& m : data.model->mistakes) CHECK(m.scores.predicted != m.label);
  CHECK(data.model->kernel_name == "c1.weight");
  CHECK(data.model->kernel_shape == std::vector<std::int64_t>{6, 1, 5, 5});
  REQUIRE(data.model->traces.size() == 10);
  // c1, p2, c3, p4, c5, f6, output: each learned layer through its ReLU, Flatten skipped.
  std::vector<std::string> names;
  for (const auto& a : data.model->traces[0].layers) names.push_back(a.name);
  CHECK(names == std::vector<std::string>{"c1", "p2", "c3", "p4", "c5", "f6", "output"});
  CHECK(data.model->traces[0].layers[0].shape == std::vector<std::int64_t>{6, 28, 28});

  const std::string page = ag::app::render_report(data);
  for (const char* id : {"overview", "curves", "confusion", "misclassified", "kernels", "activations", "timing"})
    CHECK(count(page, std::string("<section id=\"") + id + "\"") == 1);
  CHECK(count(page, "<section id=\"codes\"") == 0);  // the modern variant has no RBF codes
  CHECK(count(page, "<section id=\"distortions\"") == 0);
  CHECK(count(page, "<figure class=\"mistake\"") == data.model->mistakes.size());
  CHECK(count(page, fmt::format("data-total=\"{}\"", errors)) == 1);
  CHECK(count(page, "<tr><td>") == 3);  // one metrics row per epoch, the two before the resume included
  CHECK(count(page, "<div class=\"trace\"") == 10);
  CHECK(count(page, "<g class=\"cell\"") == 100);
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
}

TEST_CASE("a lecun1998 run stopped before its first checkpoint shows what it has, and its output codes") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 48, 5);
  ag::app::train(config_for(dir, "lecun1998", 1), false);
  std::filesystem::remove(dir / "run" / "checkpoint.bin");
  std::filesystem::remove(dir / "run" / "summary.json");
  const auto data = ag::app::gather_report(dir / "run");
  CHECK_FALSE(data.model);
  const std::string page = ag::app::render_report(data);
  CHECK(page.find("Not finished (still running, stopped, or failed): 1 of 1 epochs recorded.") != std::string::npos);
  CHECK(page.find("There is no checkpoint yet") != std::string::npos);
  CHECK(count(page, "<p class=\"note\">No checkpoint yet.</p>") == 4);  // confusion, mistakes, kernels, activations
  CHECK(count(page, "<figure class=\"code\">") == 10);
  CHECK(count(page, "<tr><td>") == 1);
}

TEST_CASE("train_lenet's hooks write the report after each end-of-epoch checkpoint, and a stopped run's shows its checkpoint") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 64, 9);
  auto config = config_for(dir, "lecun1998", 3);
  config["output"]["checkpoint_every"] = 1;
  ag::app::TrainHooks hooks;
  hooks.after_checkpoint = ag::app::report_after_checkpoint(dir / "run");
  std::string seen_in_epoch_2;
  hooks.after_batch = [&](int epoch, std::int64_t batch) {
    if (epoch == 2 && batch == 0) seen_in_epoch_2 = read_text(dir / "run" / ag::app::kReportFile);
    if (epoch == 3 && batch == 1) ag::app::request_stop();
  };
  // As train_lenet does when the run ends: while the run still holds its folder, which no other writer may take.
  bool written_at_end = false;
  std::string other_writer;
  hooks.at_end = [&](const ag::app::TrainResult& result) {
    CHECK(result.stopped_early);
    written_at_end = ag::app::write_run_report(dir / "run");
    try {
      ag::app::OutputFolder other(dir / "run", "another run");
    } catch (const std::exception& e) {
      other_writer = e.what();
    }
  };
  const auto result = ag::app::train(config, false, hooks);
  CHECK(result.stopped_early);
  CHECK(seen_in_epoch_2.find("1 of 3 epochs recorded") != std::string::npos);
  CHECK(seen_in_epoch_2.find("checkpoint taken after epoch 1.") != std::string::npos);
  CHECK(written_at_end);
  CHECK(other_writer.find("is in use by another process") != std::string::npos);
  const std::string page = read_text(dir / "run" / ag::app::kReportFile);
  CHECK(page.find("2 of 3 epochs recorded") != std::string::npos);
  CHECK(page.find("checkpoint taken after batch 2 of epoch 3.") != std::string::npos);
}

TEST_CASE("write_report refuses a folder that is not a run, and train_lenet's writer only warns") {
  TempDir dir;
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "r.html"),
                    doctest::Contains("no config.json; not the output.dir of a train_lenet run"));
  CHECK_FALSE(ag::app::write_run_report(dir / "missing"));
  std::ofstream(dir / "config.json") << "{}";
  std::ofstream(dir / "metrics.jsonl") << "{\"epoch\": 1}\n";
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "r.html"),
                    doctest::Contains("metrics.jsonl:1: the field \"lr\" is missing or not a finite number"));
  // An epoch number that no run writes, which would not convert to an integer.
  std::ofstream(dir / "metrics.jsonl") << "{\"epoch\": 1e300}\n";
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "r.html"),
                    doctest::Contains("metrics.jsonl:1: the field \"epoch\" is 1e+300; an epoch is a whole number"));
  // Files that are not regular ones are refused before a byte is read (a FIFO would block, /dev/zero never end).
  std::filesystem::remove(dir / "metrics.jsonl");
  std::filesystem::create_symlink("/dev/zero", dir / "metrics.jsonl");
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "r.html"),
                    doctest::Contains("metrics.jsonl: cannot read the metrics file: it is a character device (/dev/zero"));
  std::filesystem::remove(dir / "metrics.jsonl");
  REQUIRE(::mkfifo((dir / "summary.json").c_str(), 0644) == 0);
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "r.html"),
                    doctest::Contains("summary.json: cannot read the summary file: it is a FIFO (named pipe)"));
  CHECK_FALSE(std::filesystem::exists(dir / "r.html"));
}

TEST_CASE("write_report names the file it cannot write and the system's reason, and leaves no temporary file") {
  TempDir dir;
  std::ofstream(dir / "config.json") << "{}";
  const std::string missing = "report: cannot write " + (dir / "missing" / "r.html").string() + " (creating its temporary file ";
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "missing" / "r.html"), doctest::Contains(missing.c_str()));
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), dir / "missing" / "r.html"),
                    doctest::Contains("): No such file or directory"));
  // A device is written to, never replaced: a rename over it made /dev/full a regular file (run as root).
  CHECK_THROWS_WITH(ag::app::write_report(dir.path(), "/dev/full"),
                    doctest::Contains("report: cannot write /dev/full (writing it): No space left on device"));
  CHECK(std::filesystem::is_character_file("/dev/full"));
  ag::app::write_report(dir.path(), dir / "r.html");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    CHECK_FALSE(ag::app::is_temporary_name(entry.path().filename().string()));
  CHECK(read_text(dir / "r.html").find("<!DOCTYPE html>") == 0);
}

TEST_CASE("the misclassified gallery shows the first N in test order, most confident first, and says how many more") {
  ag::app::ReportData data;
  data.model.emplace();
  data.model->test_samples = 100;
  for (int i = 0; i < 12; ++i) {
    ag::app::Mistake m;
    m.index = 3 * i;
    m.label = 1;
    m.scores.predicted = 7;
    m.scores.margin = i % 4;  // 0 1 2 3 0 1 ...
    m.pixels.assign(784, static_cast<std::uint8_t>(i));
    data.model->mistakes.push_back(m);
  }
  const std::string html = ag::app::mistakes_section(data, 5);
  CHECK(count(html, "<figure class=\"mistake\"") == 5);
  CHECK(html.find("data-total=\"12\" data-shown=\"5\"") != std::string::npos);
  CHECK(html.find("12 of 100 test digits are misclassified; the first 5 in test order are shown") != std::string::npos);
  // Margins 0 1 2 3 0 of indices 0 3 6 9 12: sorted 9, 6, 3, then 0 and 12 in test order.
  std::vector<std::size_t> at;
  for (const char* index : {"data-index=\"9\"", "data-index=\"6\"", "data-index=\"3\"", "data-index=\"0\"", "data-index=\"12\""})
    at.push_back(html.find(index));
  CHECK(std::is_sorted(at.begin(), at.end()));
  CHECK(at.back() != std::string::npos);
}

TEST_CASE("the distortion section appears only when the config enables distortions, with the samples it is given") {
  CHECK_FALSE(ag::app::distortions_enabled(ag::app::default_config()));
  CHECK(ag::app::distortions_enabled({{"data", {{"distortions", true}}}}));
  CHECK(ag::app::distortions_enabled({{"data", {{"distortions", {{"enabled", true}}}}}}));
  CHECK_FALSE(ag::app::distortions_enabled({{"data", {{"distortions", {{"enabled", false}}}}}}));
  ag::app::ReportData data;
  CHECK(ag::app::distortions_section(data).empty());
  data.distortions_enabled = true;
  CHECK(ag::app::distortions_section(data).find("cannot draw samples") != std::string::npos);
  data.distorted.assign(3, ag::image::make_image(28, 28, 1));
  const std::string html = ag::app::distortions_section(data);
  CHECK(count(html, "<img ") == 3);
  CHECK(html.find("3 distorted training samples") != std::string::npos);
}

TEST_CASE("chart axes: decades (with 2 and 5 over few) on log axes, steps of 1, 2 or 5 on linear ones") {
  const auto near = [](const std::vector<double>& got, const std::vector<double>& want) {
    if (got.size() != want.size()) return false;
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != doctest::Approx(want[i])) return false;
    return true;
  };
  CHECK(near(ag::app::axis_ticks(0.01, 1, true), {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}));
  CHECK(near(ag::app::axis_ticks(1e-5, 1, true), {1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1}));
  CHECK(near(ag::app::axis_ticks(0, 40, false), {0, 10, 20, 30, 40}));
  CHECK(near(ag::app::axis_ticks(0.5, 2.5, false), {0.5, 1, 1.5, 2, 2.5}));
  // A log axis from 0 or to infinity has no decades to count, and one near the largest double ends: a denormal or a
  // huge value in a damaged metrics.jsonl once made the loop over decades endless.
  CHECK(ag::app::axis_ticks(0, 1e-323, true).size() == 1);
  CHECK(ag::app::axis_ticks(1, std::numeric_limits<double>::infinity(), true).size() == 1);
  CHECK(near(ag::app::axis_ticks(1e307, std::numeric_limits<double>::max(), true), {1e307, 2e307, 5e307, 1e308}));
  const std::string tiny = ag::app::line_chart({{"train", "red", {1, 2}, {5e-324, 1.7e308}}}, {"t", "epoch", "error", true, true});
  CHECK(count(tiny, "<circle ") == 2);
  // A zero error on a log axis is drawn at the bottom edge, not as NaN.
  const std::string svg = ag::app::line_chart({{"train", "red", {1, 2, 3}, {0.5, 0.01, 0}}}, {"t", "epoch", "error", true, true});
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(count(svg, "<circle ") == 3);
  CHECK(svg.find(">train, epoch 3: 0%<") != std::string::npos);
}

TEST_CASE("html escaping and numbers for people") {
  CHECK(ag::app::html::escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(ag::app::html::number(0.10899999999999999, 6) == "0.109");
  CHECK(ag::app::html::number(52341.7, 3) == "52342");
  CHECK(ag::app::html::number(2.5e-5, 3) == "2.5e-05");
  CHECK(ag::app::html::number(0.0006975, 4) == "0.0006975");
  CHECK(ag::app::html::percent(0.0095) == "0.95 %");
}

TEST_CASE("a run trained with distortions: its report draws 24 training images under maps drawn as training's") {
  TempDir dir;
  test::write_learnable_mnist(dir.path(), 48, 5);
  nlohmann::json resolved = config_for(dir, "modern", 1);
  resolved["data"]["distortions"]["enabled"] = true;
  ag::app::train(resolved, false);
  const ag::app::ReportData data = ag::app::gather_report(dir / "run", {});
  REQUIRE(data.distortions_enabled);
  REQUIRE(data.distorted.size() == 24);
  // Each picture is the training image at that position under the map of its key (position b of epoch 1).
  const auto run = ag::app::load_trained_run(dir / "run");
  const auto train = ag::data::load_mnist_split(dir.path(), "train", 24);
  const std::vector<std::int64_t> first{0, 1, 2};
  const auto expected = ag::data::distorted_samples(train, first, run.config.data.distortions,
                                                    ag::app::distortion_seed(run.config), 0);
  for (std::size_t b = 0; b < 3; ++b) {
    CAPTURE(b);
    const ag::image::Image& shown = data.distorted[b];
    REQUIRE(shown.width == 28);
    bool same = true;  // the report draws ink dark on light: 255 - the byte
    for (std::int64_t i = 0; i < 28 * 28; ++i)
      same = same && shown.pixels[static_cast<std::size_t>(i)] == 255 - expected.images[b * 784 + static_cast<std::size_t>(i)];
    CHECK(same);
  }
  CHECK(ag::app::distortions_section(data).find("24 distorted training samples") != std::string::npos);
}
