#include "autograd/float_env.h"

#include "kernels/float_env.h"

namespace ag {

FlushSubnormals::FlushSubnormals() : saved_(kernels::flush_subnormals()) {}

FlushSubnormals::~FlushSubnormals() { kernels::restore_float_mode(saved_); }

}  // namespace ag
