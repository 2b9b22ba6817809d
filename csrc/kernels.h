// The CPU kernels behind the mast_bench::window_* and mast_bench::roi_* operators.
#pragma once

#include <ATen/ATen.h>

#include <vector>

namespace mast {

at::Tensor window_corr(const at::Tensor& query, const at::Tensor& key_padded, int64_t radius, int64_t dilation);
at::Tensor window_aggregate(const at::Tensor& weights, const at::Tensor& values_padded, int64_t radius,
                            int64_t dilation);
at::Tensor window_scatter(const at::Tensor& weights, const at::Tensor& grid, int64_t radius, int64_t dilation);

at::Tensor roi_corr(const at::Tensor& query, const at::Tensor& key, const at::Tensor& base_y,
                    const at::Tensor& base_x, int64_t side);
at::Tensor roi_aggregate(const at::Tensor& weights, const at::Tensor& values, const at::Tensor& base_y,
                         const at::Tensor& base_x, int64_t side);
at::Tensor roi_scatter(const at::Tensor& weights, const at::Tensor& grid, const at::Tensor& base_y,
                       const at::Tensor& base_x, int64_t side, int64_t height, int64_t width);

std::vector<at::Tensor> joint_softmax(const std::vector<at::Tensor>& parts, const std::vector<int64_t>& dims,
                                      double scale);
std::vector<at::Tensor> joint_softmax_backward(const std::vector<at::Tensor>& grads,
                                               const std::vector<at::Tensor>& outputs,
                                               const std::vector<int64_t>& dims, double scale);

}  // namespace mast
