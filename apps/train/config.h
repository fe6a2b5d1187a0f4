#pragma once
/// Configuration of train_lenet, all of it: include this header for the whole configuration layer, or the one
/// of the concern needed. In library lenetgrad_train_config (JSON and text only):
///   config_error.h    ConfigError and how its messages show values
///   config_schema.h   the keys: type, default, allowed values, meaning
///   config_parse.h    a config file's text, a document's keys, a --set argument ("did you mean" via suggest.h)
///   config_resolve.h  load_config / resolve_config: values validated, defaults filled, keys checked together
///   config_docs.h     the Markdown key reference of docs/config.md
///   command_line.h    train_lenet's options and usage text
/// In library lenetgrad_train_settings (links lenetgrad::models):
///   train_config.h    the resolved config as typed settings (models::Variant, nn::LossKind, nn::ScheduleKind)
#include "apps/train/command_line.h"
#include "apps/train/config_docs.h"
#include "apps/train/config_error.h"
#include "apps/train/config_parse.h"
#include "apps/train/config_resolve.h"
#include "apps/train/config_schema.h"
#include "apps/train/train_config.h"
