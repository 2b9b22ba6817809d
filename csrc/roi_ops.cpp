// Contractions over per-pixel integer windows (the CPU implementation of the mast_bench::roi_*
// operators). Query pixel p = (yq, xq) of a band owns the side x side key window whose top-left
// pixel is (base_y[p], base_x[p]); key pixels outside the (H, Wk) grid read as zero:
//   corr:      out[b, p, ky*side+kx] = sum_c q[b,c,p] * key[b,c, by+ky, bx+kx]
//   aggregate: out[b, c, p]          = sum_k w[b,p,k] * values[b,c, by+ky, bx+kx]
//   scatter:   out[b, c, Y, X]       = sum_{p,k: window_p(k) = (Y,X)} w[b,p,k] * g[b,c,p]
// Lanes run along a window row (contiguous in the key). The scatter is a gather: pixels are
// bucketed by base_y (stable counting sort), each task owns one output row and adds the pixels
// whose windows cover it in bucket order, so every output element is written by one task in a
// fixed order and results do not depend on the thread count.
#include "kernels.h"
#include "simd.h"

namespace mast {
namespace {

constexpr int kChunkVectors = 4;     // one tile spans up to 4 vectors of a window row
constexpr int kMaxChannels = 8;      // aggregate: channels per pass (8 FMA chains)
constexpr int64_t kChannelGroup = 32;  // corr: channels per pass over a key row pair

inline int clamp_lanes(int64_t x, int L) { return static_cast<int>(std::min<int64_t>(L, std::max<int64_t>(0, x))); }

template <typename T>
constexpr int simd_lanes() {
  return lanes<typename Simd<T>::type, T>();
}

// Window columns are processed in chunks of up to kChunkVectors vectors.
template <typename T>
constexpr int64_t chunk_width() {
  return kChunkVectors * simd_lanes<T>();
}

// Key/value rows are copied zero-extended by one chunk on both sides: every chunk that overlaps
// the grid then loads whole vectors, and the columns outside the grid read as zeros.
template <typename T>
int64_t padded_pitch(int64_t Wk) {
  return Wk + 2 * chunk_width<T>();
}

template <typename T>
void copy_padded_row(T* dst, const T* src, int64_t Wk) {
  const int64_t pad = chunk_width<T>();
  std::fill(dst, dst + pad, T(0));
  copy_short<typename Simd<T>::type>(dst + pad, src, Wk);
  std::fill(dst + pad + Wk, dst + Wk + 2 * pad, T(0));
}

// Rows of the key grid the windows of one band row can reach.
struct RowSpan {
  int64_t lo, hi;
};

inline RowSpan row_span(const int64_t* by, int64_t W, int64_t side, int64_t H) {
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t x = 0; x < W; ++x) {
    lo = std::min(lo, by[x]);
    hi = std::max(hi, by[x] + side);
  }
  return {std::max<int64_t>(0, lo), std::min<int64_t>(H, hi)};
}

// --- corr ------------------------------------------------------------------------------------

// acc[r][lanes] (+)= sum_c q[c] * k[c][r][lanes] for RB key rows and NV vectors of one window.
template <typename T, typename V, int RB, int NV, bool FIRST>
MAST_TILE void roi_corr_tile(const T* q, const T* k, int64_t ksc, int64_t ksr, int64_t C, T* acc_rows, int64_t pitch) {
  constexpr int L = lanes<V, T>();
  V acc[RB][NV];
  for (int r = 0; r < RB; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = FIRST ? V{} : load<V>(acc_rows + r * pitch + v * L);
  for (int64_t c = 0; c < C; ++c) {
    const V qv = splat<V>(q[c]);
    const T* kc = k + c * ksc;
    for (int r = 0; r < RB; ++r)
      for (int v = 0; v < NV; ++v) acc[r][v] += qv * load<V>(kc + r * ksr + v * L);
  }
  for (int r = 0; r < RB; ++r)
    for (int v = 0; v < NV; ++v) store(acc_rows + r * pitch + v * L, acc[r][v]);
}

template <typename T, typename V, int RB, bool FIRST>
void roi_corr_rows(int nv, const T* q, const T* k, int64_t ksc, int64_t ksr, int64_t C, T* acc_rows, int64_t pitch) {
  switch (nv) {
#define MAST_CASE(N) \
  case N:            \
    return roi_corr_tile<T, V, RB, N, FIRST>(q, k, ksc, ksr, C, acc_rows, pitch);
    MAST_CASE(1) MAST_CASE(2) MAST_CASE(3) MAST_CASE(4)
#undef MAST_CASE
  }
}

template <typename T>
void roi_corr_dispatch(int rb, int nv, bool first, const T* q, const T* k, int64_t ksc, int64_t ksr, int64_t C,
                       T* acc_rows, int64_t pitch) {
  typedef typename Simd<T>::type V;
  if (rb == 2) {
    if (first)
      roi_corr_rows<T, V, 2, true>(nv, q, k, ksc, ksr, C, acc_rows, pitch);
    else
      roi_corr_rows<T, V, 2, false>(nv, q, k, ksc, ksr, C, acc_rows, pitch);
  } else {
    if (first)
      roi_corr_rows<T, V, 1, true>(nv, q, k, ksc, ksr, C, acc_rows, pitch);
    else
      roi_corr_rows<T, V, 1, false>(nv, q, k, ksc, ksr, C, acc_rows, pitch);
  }
}

struct RoiCorrLayout {
  int64_t win_pitch, k_pitch, group;  // accumulator row (a window row in whole vectors), padded key row
  int64_t scratch(int64_t W, int64_t C) const { return W * 2 * win_pitch + W * C + 2 * group * k_pitch; }
};

template <typename T>
RoiCorrLayout roi_corr_layout(int64_t side, int64_t Wk, int64_t C) {
  const int L = simd_lanes<T>();
  return {(side + L - 1) / L * L, padded_pitch<T>(Wk), std::max<int64_t>(1, std::min<int64_t>(C, kChannelGroup))};
}

// Window rows [r_lo, r_hi) of key rows Y0, Y0+1 that belong to the window starting at row `by`.
struct PairRows {
  int64_t lo, hi;
};

inline PairRows pair_rows(int64_t Y0, int64_t pair, int64_t by, int64_t side) {
  const int64_t ky0 = Y0 - by;
  return {ky0 < 0 ? -ky0 : 0, std::min<int64_t>(pair, side - ky0)};
}

// Zeroes the candidates of one window that fall outside the (H, Wk) grid (the kernel writes the others).
template <typename T>
void zero_outside(T* out, int64_t by, int64_t bx, int64_t side, int64_t H, int64_t Wk) {
  const int64_t ky_lo = std::max<int64_t>(0, -by), ky_hi = std::max(ky_lo, std::min<int64_t>(side, H - by));
  const int64_t kx_lo = std::min(side, std::max<int64_t>(0, -bx));
  const int64_t kx_hi = std::max(kx_lo, std::min<int64_t>(side, Wk - bx));
  for (int64_t ky = 0; ky < side; ++ky) {
    T* row = out + ky * side;
    if (ky < ky_lo || ky >= ky_hi) {
      std::fill(row, row + side, T(0));
      continue;
    }
    std::fill(row, row + kx_lo, T(0));
    std::fill(row + kx_hi, row + side, T(0));
  }
}

// One band row. Key rows are taken in pairs (Y, Y+1), copied for a group of channels; every pixel
// whose window holds them adds those two window rows (accumulated over the channel groups in the
// scratch buffer), which are then final and written out.
template <typename T>
void roi_corr_row(const Grid<const T>& q, const Grid<const T>& key, const int64_t* by, const int64_t* bx,
                  int64_t side, int64_t b, int64_t yq, T* out, T* scratch) {
  typedef typename Simd<T>::type V;
  constexpr int L = simd_lanes<T>();
  const int64_t W = q.W, C = q.C, H = key.H, Wk = key.W, S2 = side * side;
  const RoiCorrLayout lay = roi_corr_layout<T>(side, Wk, C);
  const int64_t pad = chunk_width<T>();
  T* acc = scratch;                        // acc[x][r][win_pitch]
  T* qt = acc + W * 2 * lay.win_pitch;     // query row transposed: qt[x][c]
  T* kbuf = qt + W * C;                    // kbuf[r][c][pad + X]
  for (int64_t c = 0; c < C; ++c) {
    const T* row = q.at(b, c, yq);
    for (int64_t x = 0; x < W; ++x) qt[x * C + c] = row[x];
  }
  for (int64_t x = 0; x < W; ++x) zero_outside(out + (yq * W + x) * S2, by[x], bx[x], side, H, Wk);
  const RowSpan span = row_span(by, W, side, H);
  for (int64_t Y0 = span.lo; Y0 < span.hi; Y0 += 2) {
    const int64_t pair = std::min<int64_t>(2, span.hi - Y0);
    for (int64_t c0 = 0; c0 < C; c0 += lay.group) {
      const int64_t cg = std::min<int64_t>(lay.group, C - c0);
      for (int64_t r = 0; r < pair; ++r)
        for (int64_t c = 0; c < cg; ++c)
          copy_padded_row(kbuf + (r * cg + c) * lay.k_pitch, key.at(b, c0 + c, Y0 + r), Wk);
      for (int64_t x = 0; x < W; ++x) {
        const PairRows rows = pair_rows(Y0, pair, by[x], side);
        if (rows.lo >= rows.hi) continue;
        for (int64_t kx0 = 0; kx0 < side; kx0 += pad) {
          const int64_t X0 = bx[x] + kx0, width = std::min<int64_t>(pad, side - kx0);
          if (X0 + width <= 0 || X0 >= Wk) continue;  // chunk wholly outside the grid
          const int nv = static_cast<int>((width + L - 1) / L);
          const T* k = kbuf + (rows.lo * cg) * lay.k_pitch + pad + X0;
          T* a = acc + (x * 2 + rows.lo) * lay.win_pitch + kx0;
          roi_corr_dispatch<T>(static_cast<int>(rows.hi - rows.lo), nv, c0 == 0, qt + x * C + c0, k, lay.k_pitch,
                               cg * lay.k_pitch, cg, a, lay.win_pitch);
        }
      }
    }
    for (int64_t x = 0; x < W; ++x) {  // candidates inside the grid; the others stay zero
      const PairRows rows = pair_rows(Y0, pair, by[x], side);
      const int64_t kx_lo = std::max<int64_t>(0, -bx[x]), kx_hi = std::min<int64_t>(side, Wk - bx[x]);
      if (C == 0 || kx_hi <= kx_lo) continue;
      for (int64_t r = rows.lo; r < rows.hi; ++r) {
        const int64_t ky = Y0 + r - by[x];
        copy_short<V>(out + (yq * W + x) * S2 + ky * side + kx_lo, acc + (x * 2 + r) * lay.win_pitch + kx_lo,
                      kx_hi - kx_lo);
      }
    }
  }
}

// --- aggregate -------------------------------------------------------------------------------

// Values are read channels-last (vcl[Y][X][c]): one window candidate is then a contiguous vector
// of channels, multiplied by its scalar weight; the accumulator lanes are the channels.

// C <= L: one vector per candidate, four accumulators in turn (independent FMA chains).
template <typename T, typename V>
MAST_TILE void roi_aggregate_narrow(const T* w, const T* vcl, const T* v_last, int64_t Wk, int64_t C, int64_t side,
                          int64_t by, int64_t bx, int64_t H, V* result) {
  V acc[4] = {};
  const int64_t ky_lo = std::max<int64_t>(0, -by), ky_hi = std::min<int64_t>(side, H - by);
  const int64_t kx_lo = std::max<int64_t>(0, -bx), kx_hi = std::min<int64_t>(side, Wk - bx);
  int turn = 0;
  for (int64_t ky = ky_lo; ky < ky_hi; ++ky) {
    const T* wr = w + ky * side;
    const T* vr = vcl + ((by + ky) * Wk + bx) * C;
    const bool full = vr + (kx_hi - 1) * C + lanes<V, T>() - 1 <= v_last;
    for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
      const V v = full ? load<V>(vr + kx * C) : load_range<V>(vr + kx * C, 0, static_cast<int>(C));
      acc[turn] += splat<V>(wr[kx]) * v;
      turn = (turn + 1) & 3;
    }
  }
  *result = (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// C > L: NVC vectors of channels (starting at channel c0) per candidate.
template <typename T, typename V, int NVC>
MAST_TILE void roi_aggregate_wide(const T* w, const T* vcl, const T* v_last, int64_t Wk, int64_t C, int64_t c0,
                        int64_t side, int64_t by, int64_t bx, int64_t H, V* result) {
  constexpr int L = lanes<V, T>();
  V acc[NVC] = {};
  const int64_t ky_lo = std::max<int64_t>(0, -by), ky_hi = std::min<int64_t>(side, H - by);
  const int64_t kx_lo = std::max<int64_t>(0, -bx), kx_hi = std::min<int64_t>(side, Wk - bx);
  const int tail = static_cast<int>(std::min<int64_t>(L, C - c0 - (NVC - 1) * L));
  for (int64_t ky = ky_lo; ky < ky_hi; ++ky) {
    const T* wr = w + ky * side;
    const T* vr = vcl + ((by + ky) * Wk + bx) * C + c0;
    const bool full = vr + (kx_hi - 1) * C + NVC * L - 1 <= v_last;
    for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
      const V wv = splat<V>(wr[kx]);
      const T* v = vr + kx * C;
      for (int u = 0; u < NVC - 1; ++u) acc[u] += wv * load<V>(v + u * L);
      const T* last = v + (NVC - 1) * L;
      acc[NVC - 1] += wv * (full ? load<V>(last) : load_range<V>(last, 0, tail));
    }
  }
  for (int u = 0; u < NVC; ++u) result[u] = acc[u];
}

template <typename T, typename V>
void roi_aggregate_channels(int nvc, const T* w, const T* vcl, const T* v_last, int64_t Wk, int64_t C, int64_t c0,
                            int64_t side, int64_t by, int64_t bx, int64_t H, V* result) {
  switch (nvc) {
#define MAST_CASE(N) \
  case N:            \
    return roi_aggregate_wide<T, V, N>(w, vcl, v_last, Wk, C, c0, side, by, bx, H, result);
    MAST_CASE(1) MAST_CASE(2) MAST_CASE(3) MAST_CASE(4) MAST_CASE(5) MAST_CASE(6) MAST_CASE(7) MAST_CASE(8)
#undef MAST_CASE
  }
}

// One band row, pixel by pixel: the weights stream through once, the values' rows stay cached.
template <typename T>
void roi_aggregate_row(const T* weights, const T* vcl, const T* v_last, int64_t H, int64_t Wk, int64_t C,
                       const int64_t* by, const int64_t* bx, int64_t side, int64_t W, int64_t yq, T* out,
                       int64_t osc) {
  typedef typename Simd<T>::type V;
  constexpr int L = simd_lanes<T>();
  const int64_t S2 = side * side;
  V result[kMaxChannels];
  for (int64_t x = 0; x < W; ++x) {
    const T* w = weights + (yq * W + x) * S2;
    T* o = out + yq * W + x;
    if (C <= L) {
      roi_aggregate_narrow<T, V>(w, vcl, v_last, Wk, C, side, by[x], bx[x], H, result);
      for (int64_t c = 0; c < C; ++c) o[c * osc] = result[0][c];
      continue;
    }
    for (int64_t c0 = 0; c0 < C; c0 += kMaxChannels * L) {
      const int nvc = static_cast<int>(std::min<int64_t>(kMaxChannels, (C - c0 + L - 1) / L));
      roi_aggregate_channels<T, V>(nvc, w, vcl, v_last, Wk, C, c0, side, by[x], bx[x], H, result);
      for (int64_t c = c0; c < std::min<int64_t>(C, c0 + kMaxChannels * L); ++c)
        o[c * osc] = result[(c - c0) / L][(c - c0) % L];
    }
  }
}

// --- scatter ---------------------------------------------------------------------------------

// Pixels of each batch element ordered by base_y (stable), and where each base_y bucket starts:
// bucket u holds base_y == u - side (clamped to [-side, H]: rows outside never meet the grid).
struct Buckets {
  std::vector<int64_t> order;  // (B, n)
  std::vector<int64_t> start;  // (B, H + side + 2)
  int64_t n, buckets;
};

Buckets bucket_by_row(const int64_t* base_y, int64_t B, int64_t n, int64_t side, int64_t H) {
  Buckets bk;
  bk.n = n;
  bk.buckets = H + side + 1;
  bk.order.resize(B * n);
  bk.start.assign(B * (bk.buckets + 1), 0);
  std::vector<int64_t> key(n);
  for (int64_t b = 0; b < B; ++b) {
    int64_t* start = bk.start.data() + b * (bk.buckets + 1);
    for (int64_t p = 0; p < n; ++p) {
      key[p] = std::min<int64_t>(H, std::max<int64_t>(-side, base_y[b * n + p])) + side;
      ++start[key[p] + 1];
    }
    for (int64_t u = 0; u < bk.buckets; ++u) start[u + 1] += start[u];
    std::vector<int64_t> fill(start, start + bk.buckets);
    for (int64_t p = 0; p < n; ++p) bk.order[b * n + fill[key[p]]++] = p;
  }
  return bk;
}

template <typename T>
void roi_scatter_row(const T* weights, const Grid<const T>& g, const int64_t* base_y, const int64_t* base_x,
                     const Buckets& bk, int64_t side, int64_t b, int64_t Y, const Grid<T>& out) {
  const int64_t n = bk.n, W = g.W, width = out.W, C = g.C;
  const int64_t* start = bk.start.data() + b * (bk.buckets + 1);
  // base_y in [Y - side + 1, Y]  <=>  bucket in [Y + 1, Y + side]
  const int64_t first = start[std::max<int64_t>(0, Y + 1)], last = start[std::min<int64_t>(bk.buckets, Y + side + 1)];
  for (int64_t s = first; s < last; ++s) {
    const int64_t p = bk.order[b * n + s];
    const int64_t by = base_y[b * n + p], bx = base_x[b * n + p];
    const int64_t ky = Y - by;
    const int64_t kx_lo = std::max<int64_t>(0, -bx), kx_hi = std::min<int64_t>(side, width - bx);
    if (kx_hi <= kx_lo) continue;
    const T* wr = weights + (b * n + p) * side * side + ky * side;
    const int64_t yq = p / W, xq = p % W;
    for (int64_t c = 0; c < C; ++c) {
      const T gc = g.at(b, c, yq)[xq];
      T* orow = out.at(b, c, Y) + bx;
#pragma omp simd
      for (int64_t kx = kx_lo; kx < kx_hi; ++kx) orow[kx] += wr[kx] * gc;
    }
  }
}

void check_bases(const at::Tensor& base_y, const at::Tensor& base_x, int64_t B, int64_t rows, int64_t cols) {
  TORCH_CHECK(base_y.scalar_type() == at::kLong && base_x.scalar_type() == at::kLong,
              "roi: window bases must be int64");
  TORCH_CHECK(base_y.dim() == 3 && base_y.sizes() == base_x.sizes() && base_y.size(0) == B &&
                  base_y.size(1) == rows && base_y.size(2) == cols,
              "roi: window bases do not match the band");
}

}  // namespace

at::Tensor roi_corr(const at::Tensor& query_in, const at::Tensor& key_in, const at::Tensor& base_y_in,
                    const at::Tensor& base_x_in, int64_t side) {
  const at::Tensor query = rows_contiguous(query_in), key = rows_contiguous(key_in);
  const int64_t B = query.size(0), C = query.size(1), rows = query.size(2), cols = query.size(3);
  check_bases(base_y_in, base_x_in, B, rows, cols);
  TORCH_CHECK(side >= 1, "roi_corr: side must be >= 1");
  TORCH_CHECK(key.size(0) == B && key.size(1) == C, "roi_corr: key must be (B, C, H, W) like the query");
  TORCH_CHECK(key.scalar_type() == query.scalar_type(), "roi_corr: dtypes differ");
  const at::Tensor base_y = base_y_in.contiguous(), base_x = base_x_in.contiguous();
  const int64_t n = rows * cols, S2 = side * side;
  if (key.numel() == 0 || n == 0 || C == 0) return at::zeros({B, n, S2}, query.options());
  at::Tensor out = at::empty({B, n, S2}, query.options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(query.scalar_type(), "roi_corr", [&] {
    const auto q = const_grid<scalar_t>(query);
    const auto k = const_grid<scalar_t>(key);
    const int64_t* by = base_y.const_data_ptr<int64_t>();
    const int64_t* bx = base_x.const_data_ptr<int64_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    const int64_t scratch = roi_corr_layout<scalar_t>(side, key.size(3), C).scratch(cols, C);
    parallel_tasks<scalar_t>(B * rows, scratch, [&](int64_t t, scalar_t* buffer) {
      const int64_t b = t / rows, yq = t % rows, first = b * n + yq * cols;
      roi_corr_row(q, k, by + first, bx + first, side, b, yq, o + b * n * S2, buffer);
    });
  });
  return out;
}

at::Tensor roi_aggregate(const at::Tensor& weights_in, const at::Tensor& values_in, const at::Tensor& base_y_in,
                         const at::Tensor& base_x_in, int64_t side) {
  TORCH_CHECK(values_in.device().is_cpu() && values_in.dim() == 4, "roi_aggregate: values must be a 4-D CPU tensor");
  TORCH_CHECK(base_y_in.dim() == 3, "roi_aggregate: window bases must be (B, rows, W)");
  const int64_t B = base_y_in.size(0), rows = base_y_in.size(1), cols = base_y_in.size(2);
  check_bases(base_y_in, base_x_in, B, rows, cols);
  const int64_t n = rows * cols, S2 = side * side, C = values_in.size(1), H = values_in.size(2), Wk = values_in.size(3);
  TORCH_CHECK(side >= 1, "roi_aggregate: side must be >= 1");
  TORCH_CHECK(weights_in.dim() == 3 && weights_in.size(0) == B && weights_in.size(1) == n && weights_in.size(2) == S2,
              "roi_aggregate: weights must be (B, rows*W, side^2)");
  TORCH_CHECK(values_in.size(0) == B, "roi_aggregate: values batch differs");
  TORCH_CHECK(weights_in.scalar_type() == values_in.scalar_type(), "roi_aggregate: dtypes differ");
  // channels-last values (free when the caller already holds them so, as memory_read does)
  const at::Tensor values = values_in.contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor weights = weights_in.contiguous(), base_y = base_y_in.contiguous(), base_x = base_x_in.contiguous();
  at::Tensor out = at::zeros({B, C, rows, cols}, values.options().memory_format(at::MemoryFormat::Contiguous));
  if (values.numel() == 0 || n == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "roi_aggregate", [&] {
    const scalar_t* v = values.const_data_ptr<scalar_t>();
    const scalar_t* v_last = v + values.numel() - 1;
    const scalar_t* w = weights.const_data_ptr<scalar_t>();
    const int64_t* by = base_y.const_data_ptr<int64_t>();
    const int64_t* bx = base_x.const_data_ptr<int64_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    parallel_tasks<scalar_t>(B * rows, 0, [&](int64_t t, scalar_t*) {
      const int64_t b = t / rows, yq = t % rows, first = b * n + yq * cols;
      roi_aggregate_row(w + b * n * S2, v + b * H * Wk * C, v_last, H, Wk, C, by + first, bx + first, side, cols, yq,
                        o + b * C * n, n);
    });
  });
  return out;
}

at::Tensor roi_scatter(const at::Tensor& weights_in, const at::Tensor& grid_in, const at::Tensor& base_y_in,
                       const at::Tensor& base_x_in, int64_t side, int64_t height, int64_t width) {
  const at::Tensor g = rows_contiguous(grid_in);
  const int64_t B = g.size(0), C = g.size(1), rows = g.size(2), cols = g.size(3);
  check_bases(base_y_in, base_x_in, B, rows, cols);
  const int64_t n = rows * cols, S2 = side * side;
  TORCH_CHECK(side >= 1 && height >= 0 && width >= 0, "roi_scatter: bad side or output size");
  TORCH_CHECK(weights_in.dim() == 3 && weights_in.size(0) == B && weights_in.size(1) == n && weights_in.size(2) == S2,
              "roi_scatter: weights must be (B, rows*W, side^2)");
  TORCH_CHECK(weights_in.scalar_type() == g.scalar_type(), "roi_scatter: dtypes differ");
  const at::Tensor weights = weights_in.contiguous(), base_y = base_y_in.contiguous(), base_x = base_x_in.contiguous();
  at::Tensor out = at::zeros({B, C, height, width}, g.options().memory_format(at::MemoryFormat::Contiguous));
  if (out.numel() == 0 || n == 0) return out;
  const int64_t* by = base_y.const_data_ptr<int64_t>();
  const int64_t* bx = base_x.const_data_ptr<int64_t>();
  const Buckets bk = bucket_by_row(by, B, n, side, height);
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "roi_scatter", [&] {
    const auto gg = const_grid<scalar_t>(g);
    const auto o = grid<scalar_t>(out);
    const scalar_t* w = weights.const_data_ptr<scalar_t>();
    parallel_tasks<scalar_t>(B * height, 0, [&](int64_t t, scalar_t*) {
      roi_scatter_row(w, gg, by, bx, bk, side, t / height, t % height, o);
    });
  });
  return out;
}

}  // namespace mast
