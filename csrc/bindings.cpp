// Python bindings of the CPU kernels (loaded by mast_bench/ops/cpu_kernels.py).
#include <torch/extension.h>

#include "kernels.h"

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("window_corr", &mast::window_corr, "windowed correlation against a zero-padded key");
  m.def("window_aggregate", &mast::window_aggregate, "window-weighted sum of zero-padded values");
  m.def("window_scatter", &mast::window_scatter, "transpose of window_aggregate onto the padded grid");
  m.def("roi_corr", &mast::roi_corr, "correlation over per-pixel integer windows");
  m.def("roi_aggregate", &mast::roi_aggregate, "weighted sum over per-pixel integer windows");
  m.def("roi_scatter", &mast::roi_scatter, "transpose of roi_aggregate onto the key grid");
  m.def("joint_softmax", &mast::joint_softmax, "one softmax over the candidates of several tensors");
  m.def("joint_softmax_backward", &mast::joint_softmax_backward, "gradient of joint_softmax");
}
