// The sections drawn from the run's files alone: overview, learning curves, timing.
#include <fmt/format.h>

#include "apps/report/charts.h"
#include "apps/report/html.h"
#include "apps/report/sections.h"

namespace ag::app {

namespace {

constexpr const char* kTrainColour = "#1f77b4";
constexpr const char* kTestColour = "#d62728";

/// Appends every leaf of `doc` as ("a.b.c", value as JSON text), in document order.
void flatten(const nlohmann::json& doc, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object())
      flatten(*it, key, out);
    else
      out.emplace_back(key, it->is_string()         ? it->get<std::string>()
                            : it->is_number_float() ? html::number(it->get<double>(), 6)
                                                    : it->dump());
  }
}

std::string key_value_table(const std::vector<std::pair<std::string, std::string>>& rows, std::string_view cls) {
  std::string out = fmt::format(R"(<table class="{}">)", cls);
  for (const auto& [k, v] : rows) out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", html::escape(k), html::escape(v));
  return out + "</table>";
}

/// Returns the value of the dotted key `path` as text ("-" when the config lacks it).
std::string config_text(const nlohmann::json& config, const std::string& path) {
  std::string pointer = "/" + path;
  for (char& ch : pointer) ch = ch == '.' ? '/' : ch;
  const nlohmann::json::json_pointer at(pointer);
  if (!config.contains(at)) return "-";
  const auto& v = config.at(at);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string status_text(const ReportData& d) {
  const auto& config = d.files.config;
  std::string planned = config_text(config, "train.epochs");
  std::string out;
  if (d.files.summary)
    out = fmt::format("Finished: {} epochs, test error <b>{}</b>.", d.files.summary->value("epochs", 0),
                      html::percent(d.files.summary->value("test_error", 0.0)));
  else if (!d.files.metrics.empty())
    out = fmt::format("Not finished (still running, stopped, or failed): {} of {} epochs recorded.",
                      d.files.metrics.back().epoch, html::escape(planned));
  else
    out = "No epoch has finished yet.";
  if (d.model)
    out += d.model->batches_done > 0
               ? fmt::format(" The model below is the checkpoint taken after batch {} of epoch {}.", d.model->batches_done,
                             d.model->epoch + 1)
               : fmt::format(" The model below is the checkpoint taken after epoch {}.", d.model->epoch);
  else
    out += " There is no checkpoint yet: the sections about the model appear with the first one.";
  return out;
}

std::vector<double> epoch_numbers(const std::vector<EpochMetrics>& m) {
  std::vector<double> out;
  for (const auto& e : m) out.push_back(static_cast<double>(e.epoch));
  return out;
}

std::vector<double> column(const std::vector<EpochMetrics>& m, double EpochMetrics::*field) {
  std::vector<double> out;
  for (const auto& e : m) out.push_back(e.*field);
  return out;
}

std::string metrics_table(const std::vector<EpochMetrics>& metrics) {
  std::string out =
      R"(<table class="metrics"><tr><th>epoch</th><th>learning rate</th><th>train loss</th><th>train error</th>)"
      R"(<th>test loss</th><th>test error</th><th>seconds</th><th>samples/s</th></tr>)";
  for (const auto& e : metrics)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                       e.epoch, html::number(e.lr), html::number(e.train_loss), html::percent(e.train_error),
                       html::number(e.test_loss), html::percent(e.test_error), html::number(e.seconds, 3),
                       html::number(e.samples_per_second, 3));
  return out + "</table>";
}

}  // namespace

std::string section(std::string_view id, std::string_view title, std::string_view body, std::string_view attributes) {
  return fmt::format(R"(<section id="{}"{}{}><h2>{}</h2>{}</section>)", id, attributes.empty() ? "" : " ", attributes,
                     html::escape(title), body);
}

std::string overview_section(const ReportData& d) {
  const auto& c = d.files.config;
  std::vector<std::pair<std::string, std::string>> facts = {
      {"model", config_text(c, "model.variant") + ", loss " + config_text(c, "model.loss")},
      {"data", config_text(c, "data.dataset") + " (" + config_text(c, "data.dir") + ")"},
      {"optimizer", fmt::format("{}, lr {}, {} schedule, batch {}", config_text(c, "train.optimizer.name"),
                                config_text(c, "train.optimizer.lr"), config_text(c, "train.schedule.name"),
                                config_text(c, "train.batch_size"))},
      {"epochs planned", config_text(c, "train.epochs")}};
  if (d.model) facts.emplace_back("test samples", std::to_string(d.model->test_samples));
  std::vector<std::pair<std::string, std::string>> summary, config;
  if (d.files.summary) flatten(*d.files.summary, "", summary);
  flatten(c, "", config);
  std::string body = fmt::format(R"(<p class="status">{}</p><div class="columns"><div>{}</div>)", status_text(d),
                                 key_value_table(facts, "facts"));
  if (d.files.summary) body += "<div><h3>summary.json</h3>" + key_value_table(summary, "summary") + "</div>";
  body += "</div><details open><summary>config.json (every key)</summary>" + key_value_table(config, "config") + "</details>";
  return section("overview", "Run", body);
}

std::string curves_section(const ReportData& d) {
  const auto& m = d.files.metrics;
  if (m.empty()) return section("curves", "Learning curves", R"(<p class="note">No epoch has finished yet.</p>)");
  const auto epochs = epoch_numbers(m);
  ChartOptions error{"Error rate (log scale)", "epoch", "error", true, true};
  ChartOptions loss{"Loss", "epoch", "mean loss"};
  ChartOptions lr{"Learning rate (log scale)", "epoch", "learning rate", true};
  std::string body = R"(<div class="charts">)";
  body += line_chart({{"train", kTrainColour, epochs, column(m, &EpochMetrics::train_error)},
                      {"test", kTestColour, epochs, column(m, &EpochMetrics::test_error)}},
                     error);
  body += line_chart({{"train", kTrainColour, epochs, column(m, &EpochMetrics::train_loss)},
                      {"test", kTestColour, epochs, column(m, &EpochMetrics::test_loss)}},
                     loss);
  body += line_chart({{"learning rate", "#2ca02c", epochs, column(m, &EpochMetrics::lr)}}, lr);
  body += "</div>" + metrics_table(m);
  return section("curves", "Learning curves", body);
}

std::string timing_section(const ReportData& d) {
  const auto& m = d.files.metrics;
  if (m.empty()) return section("timing", "Timing", R"(<p class="note">No epoch has finished yet.</p>)");
  const auto epochs = epoch_numbers(m);
  double total = 0;
  for (const auto& e : m) total += e.seconds;
  std::string body = fmt::format("<p>{} s of training over {} epochs (evaluation not included).</p>",
                                 html::number(total, 4), m.size());
  body += R"(<div class="charts">)";
  body += line_chart({{"samples/s", "#9467bd", epochs, column(m, &EpochMetrics::samples_per_second)}},
                     {"Training throughput", "epoch", "samples per second"});
  body += line_chart({{"seconds", "#8c564b", epochs, column(m, &EpochMetrics::seconds)}},
                     {"Time per epoch", "epoch", "seconds"});
  return section("timing", "Timing", body + "</div>");
}

}  // namespace ag::app
