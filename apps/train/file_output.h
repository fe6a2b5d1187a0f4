#pragma once
/// The apps' output files are written atomically by the nn library's writer (nn/data/output_file.h), which
/// state files use too; the apps call it by its old names in ag::app.
#include "nn/data/output_file.h"

namespace ag::app {

using data::is_temporary_name;
using data::write_file_atomically;
using data::write_output_file;

}  // namespace ag::app
