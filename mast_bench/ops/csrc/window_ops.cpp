// Local (windowed) correlation and its two companions on CPU, OpenMP over (batch, row).
//
// Same semantics as mast_bench/ops/window.py (the reference path); inputs are channels-last so
// every inner loop is a contiguous dot product or axpy over C:
//   corr:      out[b,i,j,y,x] = sum_c q[b,y,x,c] * kp[b, y+i*d, x+j*d, c]
//   aggregate: out[b,y,x,c]   = sum_ij w[b,ij,y,x] * vp[b, y+i*d, x+j*d, c]
//   scatter:   out[b,Y,X,c]   = sum_{ij: Y=y+i*d, X=x+j*d} w[b,ij,y,x] * g[b,y,x,c]   (padded grid)
// Each output element is written by exactly one thread (scatter is computed as a gather).
#include <torch/extension.h>

namespace {

void check(const torch::Tensor& t, const char* name, int64_t dims) {
  TORCH_CHECK(t.device().is_cpu(), name, " must be a CPU tensor");
  TORCH_CHECK(t.is_contiguous(), name, " must be contiguous");
  TORCH_CHECK(t.dim() == dims, name, " must have ", dims, " dimensions");
}

}  // namespace

torch::Tensor corr_forward(torch::Tensor q, torch::Tensor kp, int64_t radius, int64_t dilation) {
  check(q, "query (B,h,w,C)", 4);
  check(kp, "padded key (B,h+2Rd,w+2Rd,C)", 4);
  const int64_t B = q.size(0), H = q.size(1), W = q.size(2), C = q.size(3);
  const int64_t P = 2 * radius + 1, HP = kp.size(1), WP = kp.size(2);
  TORCH_CHECK(HP == H + 2 * radius * dilation && WP == W + 2 * radius * dilation, "key padding mismatch");
  auto out = torch::empty({B, P * P, H, W}, q.options());
  AT_DISPATCH_FLOATING_TYPES(q.scalar_type(), "corr_forward", [&] {
    const scalar_t* qd = q.data_ptr<scalar_t>();
    const scalar_t* kd = kp.data_ptr<scalar_t>();
    scalar_t* od = out.data_ptr<scalar_t>();
_Pragma("omp parallel for collapse(2) schedule(static)")
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t y = 0; y < H; ++y) {
        for (int64_t i = 0; i < P; ++i) {
          for (int64_t j = 0; j < P; ++j) {
            scalar_t* orow = od + ((b * P * P + i * P + j) * H + y) * W;
            const scalar_t* krow = kd + ((b * HP + y + i * dilation) * WP + j * dilation) * C;
            const scalar_t* qrow = qd + (b * H + y) * W * C;
            for (int64_t x = 0; x < W; ++x) {
              const scalar_t* qv = qrow + x * C;
              const scalar_t* kv = krow + x * C;
              scalar_t acc = 0;
_Pragma("omp simd reduction(+ : acc)")
              for (int64_t c = 0; c < C; ++c) acc += qv[c] * kv[c];
              orow[x] = acc;
            }
          }
        }
      }
    }
  });
  return out;
}

torch::Tensor aggregate(torch::Tensor w, torch::Tensor vp, int64_t radius, int64_t dilation) {
  check(w, "weights (B,P*P,h,w)", 4);
  check(vp, "padded values (B,h+2Rd,w+2Rd,C)", 4);
  const int64_t B = w.size(0), H = w.size(2), W = w.size(3), C = vp.size(3);
  const int64_t P = 2 * radius + 1, HP = vp.size(1), WP = vp.size(2);
  TORCH_CHECK(w.size(1) == P * P, "weights must have P*P channels");
  TORCH_CHECK(HP == H + 2 * radius * dilation && WP == W + 2 * radius * dilation, "value padding mismatch");
  auto out = torch::zeros({B, H, W, C}, vp.options());
  AT_DISPATCH_FLOATING_TYPES(vp.scalar_type(), "aggregate", [&] {
    const scalar_t* wd = w.data_ptr<scalar_t>();
    const scalar_t* vd = vp.data_ptr<scalar_t>();
    scalar_t* od = out.data_ptr<scalar_t>();
_Pragma("omp parallel for collapse(2) schedule(static)")
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t y = 0; y < H; ++y) {
        scalar_t* orow = od + (b * H + y) * W * C;
        for (int64_t i = 0; i < P; ++i) {
          for (int64_t j = 0; j < P; ++j) {
            const scalar_t* wrow = wd + ((b * P * P + i * P + j) * H + y) * W;
            const scalar_t* vrow = vd + ((b * HP + y + i * dilation) * WP + j * dilation) * C;
            for (int64_t x = 0; x < W; ++x) {
              const scalar_t weight = wrow[x];
              const scalar_t* vv = vrow + x * C;
              scalar_t* ov = orow + x * C;
_Pragma("omp simd")
              for (int64_t c = 0; c < C; ++c) ov[c] += weight * vv[c];
            }
          }
        }
      }
    }
  });
  return out;
}

torch::Tensor scatter(torch::Tensor w, torch::Tensor g, int64_t radius, int64_t dilation) {
  check(w, "weights (B,P*P,h,w)", 4);
  check(g, "grid (B,h,w,C)", 4);
  const int64_t B = w.size(0), H = w.size(2), W = w.size(3), C = g.size(3);
  const int64_t P = 2 * radius + 1, M = radius * dilation, HP = H + 2 * M, WP = W + 2 * M;
  TORCH_CHECK(w.size(1) == P * P && g.size(1) == H && g.size(2) == W, "weights/grid mismatch");
  auto out = torch::zeros({B, HP, WP, C}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "scatter", [&] {
    const scalar_t* wd = w.data_ptr<scalar_t>();
    const scalar_t* gd = g.data_ptr<scalar_t>();
    scalar_t* od = out.data_ptr<scalar_t>();
_Pragma("omp parallel for collapse(2) schedule(static)")
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t yp = 0; yp < HP; ++yp) {
        scalar_t* orow = od + (b * HP + yp) * WP * C;
        for (int64_t i = 0; i < P; ++i) {
          const int64_t y = yp - i * dilation;
          if (y < 0 || y >= H) continue;
          for (int64_t j = 0; j < P; ++j) {
            const scalar_t* wrow = wd + ((b * P * P + i * P + j) * H + y) * W;
            const scalar_t* grow = gd + (b * H + y) * W * C;
            // x = xp - j*d must lie in [0, W): xp in [j*d, j*d + W)
            for (int64_t x = 0; x < W; ++x) {
              const scalar_t weight = wrow[x];
              const scalar_t* gv = grow + x * C;
              scalar_t* ov = orow + (x + j * dilation) * C;
_Pragma("omp simd")
              for (int64_t c = 0; c < C; ++c) ov[c] += weight * gv[c];
            }
          }
        }
      }
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("corr_forward", &corr_forward, "windowed correlation (channels-last inputs)");
  m.def("aggregate", &aggregate, "window-weighted sum of padded values (channels-last out)");
  m.def("scatter", &scatter, "transpose of aggregate onto the padded grid (channels-last out)");
}
