#pragma once
/// LeNet-5's C3 connection table (Table I of the paper), as data for ag::ConnectionTable.
#include "autograd/ops/conv2d.h"

namespace ag::models {

/// Returns Table I: which of S2's 6 maps each of C3's 16 maps reads, 60 connections in all.
ConnectionTable lenet5_c3_table();

}  // namespace ag::models
