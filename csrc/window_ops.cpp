// Windowed correlation and its two companions (the CPU implementation of the mast_bench::window_*
// operators). Inputs are (B, C, H, W) grids with contiguous rows; the key/value grid is zero-padded
// by M = radius * dilation on every side, P = 2 * radius + 1, d = dilation:
//   corr:      out[b, i*P+j, y, x] = sum_c q[b,c,y,x] * kp[b,c, y+i*d, x+j*d]
//   aggregate: out[b, c, y, x]     = sum_ij w[b,ij,y,x] * vp[b,c, y+i*d, x+j*d]
//   scatter:   out[b, c, Y, X]     = sum_ij w[b,ij,Y-i*d,X-j*d] * g[b,c,Y-i*d,X-j*d]   (padded grid)
// Lanes run along x, so every load is a contiguous row segment whatever the dilation. A task is a
// block of a few output rows: it copies the rows it reads once into per-thread buffers (sequential
// copies the prefetcher follows, where the walk over channels would miss the cache on every line;
// one key row serves every query row of the block that reaches it), zero-extended so that no load
// needs a bound. The scatter is computed as a gather: each output
// element is written by one task, in a fixed order, so results do not depend on the thread count.
#include "kernels.h"
#include "simd.h"

namespace mast {
namespace {

constexpr int kMaxChannels = 8;     // channels per aggregate/scatter tile (8 FMA chains)
constexpr int kMaxCandidates = 12;  // candidates per correlation tile (12 chains + 2 registers of 16)
constexpr int64_t kChannelGroup = 32;  // channels per correlation pass: their rows stay in L1

template <typename T>
constexpr int simd_lanes() {
  return lanes<typename Simd<T>::type, T>();
}

// Row length rounded up to whole vectors.
template <typename T>
int64_t lane_pitch(int64_t w) {
  return (w + simd_lanes<T>() - 1) / simd_lanes<T>() * simd_lanes<T>();
}

// Copies `w` elements to dst and zeroes dst[w, pitch).
template <typename T>
void copy_row(T* dst, const T* src, int64_t w, int64_t pitch) {
  copy_short<typename Simd<T>::type>(dst, src, w);
  std::fill(dst + w, dst + pitch, T(0));
}

// Candidates per correlation tile: P split into equal blocks of at most kMaxCandidates, so no
// block is left with a single latency-bound accumulator chain.
inline int64_t candidate_block(int64_t P) {
  const int64_t blocks = (P + kMaxCandidates - 1) / kMaxCandidates;
  return (P + blocks - 1) / blocks;
}

// --- corr ------------------------------------------------------------------------------------

// acc[u][x..x+L] (+)= sum_c q[c][x..] * k[c][x + u*step ..] over C buffered channel rows.
template <typename T, typename V, int J, bool FIRST>
MAST_TILE void corr_tile(const T* q, int64_t qsc, const T* k, int64_t ksc, int64_t step, int64_t C, T* acc_row,
               int64_t pitch) {
  V acc[J];
  for (int u = 0; u < J; ++u) acc[u] = FIRST ? V{} : load<V>(acc_row + u * pitch);
  for (int64_t c = 0; c < C; ++c) {
    const V qv = load<V>(q + c * qsc);
    const T* kc = k + c * ksc;
    for (int u = 0; u < J; ++u) acc[u] += qv * load<V>(kc + u * step);
  }
  for (int u = 0; u < J; ++u) store(acc_row + u * pitch, acc[u]);
}

template <typename T, typename V, bool FIRST>
void corr_block(int J, const T* q, int64_t qsc, const T* k, int64_t ksc, int64_t step, int64_t C, T* acc_row,
                int64_t pitch) {
  switch (J) {
#define MAST_CASE(N) \
  case N:            \
    return corr_tile<T, V, N, FIRST>(q, qsc, k, ksc, step, C, acc_row, pitch);
    MAST_CASE(1) MAST_CASE(2) MAST_CASE(3) MAST_CASE(4) MAST_CASE(5) MAST_CASE(6)
    MAST_CASE(7) MAST_CASE(8) MAST_CASE(9) MAST_CASE(10) MAST_CASE(11) MAST_CASE(12)
#undef MAST_CASE
  }
}

// Query rows per task: a few, so that a key/value row copied once serves several of them, but
// enough tasks to keep every thread busy (and to rebalance when one is descheduled).
inline int64_t rows_per_task(int64_t rows) {
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  return std::max<int64_t>(1, std::min<int64_t>(4, rows / (2 * threads)));
}

struct RowBlock {
  int64_t b, y0, rows;
};

inline RowBlock row_block(int64_t task, int64_t h, int64_t per_task) {
  const int64_t blocks = (h + per_task - 1) / per_task;
  const int64_t b = task / blocks, y0 = (task % blocks) * per_task;
  return {b, y0, std::min(per_task, h - y0)};
}

inline int64_t block_tasks(int64_t B, int64_t h, int64_t per_task) { return B * ((h + per_task - 1) / per_task); }

struct CorrLayout {
  int64_t w_pitch, k_pitch;  // query/accumulator rows, key rows (+ one vector of slack)
  int64_t scratch(int64_t P, int64_t C, int64_t R) const { return P * w_pitch + R * C * w_pitch + C * k_pitch; }
};

template <typename T>
CorrLayout corr_layout(int64_t w, int64_t WP) {
  return {lane_pitch<T>(w), WP + simd_lanes<T>()};
}

// Correlation of query row y (buffered channels `qbuf`) with buffered key row y + i*d; all P
// candidates j of that kernel row, written to their output planes.
template <typename T>
void corr_pair(const T* qbuf, const T* kbuf, const CorrLayout& lay, int64_t C, int64_t w, int64_t P, int64_t d,
               T* acc, T* out_row, int64_t plane) {
  typedef typename Simd<T>::type V;
  constexpr int L = simd_lanes<T>();
  const int64_t block = candidate_block(P);
  if (C == 0) std::fill(acc, acc + P * lay.w_pitch, T(0));
  for (int64_t c0 = 0; c0 < C; c0 += kChannelGroup) {
    const int64_t cg = std::min<int64_t>(kChannelGroup, C - c0);
    for (int64_t x0 = 0; x0 < w; x0 += L) {
      for (int64_t j0 = 0; j0 < P; j0 += block) {
        const int J = static_cast<int>(std::min<int64_t>(block, P - j0));
        const T* qq = qbuf + c0 * lay.w_pitch + x0;
        const T* kk = kbuf + c0 * lay.k_pitch + x0 + j0 * d;
        T* a = acc + j0 * lay.w_pitch + x0;
        if (c0 == 0)
          corr_block<T, V, true>(J, qq, lay.w_pitch, kk, lay.k_pitch, d, cg, a, lay.w_pitch);
        else
          corr_block<T, V, false>(J, qq, lay.w_pitch, kk, lay.k_pitch, d, cg, a, lay.w_pitch);
      }
    }
  }
  for (int64_t j = 0; j < P; ++j) copy_short<typename Simd<T>::type>(out_row + j * plane, acc + j * lay.w_pitch, w);
}

// Query rows y0 .. y0+R: each key row they need is copied once and serves every query row of
// the block that reaches it (row y uses key rows y + i*d, i < P).
template <typename T>
void corr_rows(const Grid<const T>& q, const Grid<const T>& kp, T* out, const RowBlock& blk, int64_t P,
               int64_t d, T* scratch) {
  const int64_t h = q.H, w = q.W, C = q.C, WP = kp.W, plane = h * w;
  const CorrLayout lay = corr_layout<T>(w, WP);
  T* acc = scratch;
  T* qbuf = acc + P * lay.w_pitch;
  T* kbuf = qbuf + blk.rows * C * lay.w_pitch;
  for (int64_t r = 0; r < blk.rows; ++r)
    for (int64_t c = 0; c < C; ++c)
      copy_row(qbuf + (r * C + c) * lay.w_pitch, q.at(blk.b, c, blk.y0 + r), w, lay.w_pitch);
  for (int64_t Y = blk.y0; Y < blk.y0 + blk.rows + (P - 1) * d; ++Y) {
    bool copied = false;
    for (int64_t r = 0; r < blk.rows; ++r) {
      const int64_t y = blk.y0 + r, gap = Y - y;
      if (gap < 0 || gap % d != 0 || gap / d >= P) continue;
      if (!copied) {
        for (int64_t c = 0; c < C; ++c) copy_row(kbuf + c * lay.k_pitch, kp.at(blk.b, c, Y), WP, lay.k_pitch);
        copied = true;
      }
      const int64_t i = gap / d;
      corr_pair(qbuf + r * C * lay.w_pitch, kbuf, lay, C, w, P, d, acc,
                out + ((blk.b * P * P + i * P) * h + y) * w, plane);
    }
  }
}

// --- aggregate -------------------------------------------------------------------------------

// out[cc][x..x+L] = sum_ij wt[ij][lanes] * v[cc][i][x + j*d ..]: weights transposed into lane
// blocks, values as buffered rows (row i of channel cc at v + cc*vsc + i*vrow).
template <typename T, typename V, int CB>
MAST_TILE void aggregate_tile(const T* wt, const T* v, int64_t vsc, int64_t vrow, int64_t P, int64_t d, T* out,
                    int64_t osc, int n) {
  constexpr int L = lanes<V, T>();
  V acc[CB];
  for (int cc = 0; cc < CB; ++cc) acc[cc] = V{};
  for (int64_t i = 0; i < P; ++i) {
    for (int64_t j = 0; j < P; ++j) {
      const V wv = load<V>(wt + (i * P + j) * L);
      const T* vr = v + i * vrow + j * d;
      for (int cc = 0; cc < CB; ++cc) acc[cc] += wv * load<V>(vr + cc * vsc);
    }
  }
  for (int cc = 0; cc < CB; ++cc) {
    if (n == L)
      store(out + cc * osc, acc[cc]);
    else
      store_range(out + cc * osc, acc[cc], 0, n);
  }
}

template <typename T, typename V>
void aggregate_block(int CB, const T* wt, const T* v, int64_t vsc, int64_t vrow, int64_t P, int64_t d, T* out,
                     int64_t osc, int n) {
  switch (CB) {
#define MAST_CASE(N) \
  case N:            \
    return aggregate_tile<T, V, N>(wt, v, vsc, vrow, P, d, out, osc, n);
    MAST_CASE(1) MAST_CASE(2) MAST_CASE(3) MAST_CASE(4) MAST_CASE(5) MAST_CASE(6) MAST_CASE(7) MAST_CASE(8)
#undef MAST_CASE
  }
}

struct AggregateLayout {
  int64_t blocks, v_pitch, v_rows;  // lane blocks per row; buffered value rows (+ slack) per channel
  int64_t scratch(int64_t P, int64_t C, int L) const { return blocks * P * P * L + C * v_rows * v_pitch; }
};

template <typename T>
AggregateLayout aggregate_layout(int64_t w, int64_t WP, int64_t P, int64_t d, int64_t R) {
  return {lane_pitch<T>(w) / simd_lanes<T>(), WP + simd_lanes<T>(), R + (P - 1) * d};
}

// Query rows y0 .. y0+R: the value rows they reach are copied once (all channels), each query
// row's weights are transposed into lane blocks, then every channel block is summed.
template <typename T>
void aggregate_rows(const Grid<const T>& wt, const Grid<const T>& vp, T* out, const RowBlock& blk, int64_t P,
                    int64_t d, T* scratch) {
  typedef typename Simd<T>::type V;
  constexpr int L = simd_lanes<T>();
  const int64_t h = wt.H, w = wt.W, C = vp.C, WP = vp.W, plane = h * w, PP = P * P;
  const AggregateLayout lay = aggregate_layout<T>(w, WP, P, d, blk.rows);
  const int64_t v_rows = blk.rows + (P - 1) * d;
  T* wbuf = scratch;
  T* vbuf = scratch + lay.blocks * PP * L;  // vbuf[c][row - y0][v_pitch]
  for (int64_t c = 0; c < C; ++c)
    for (int64_t u = 0; u < v_rows; ++u)
      copy_row(vbuf + (c * lay.v_rows + u) * lay.v_pitch, vp.at(blk.b, c, blk.y0 + u), WP, lay.v_pitch);
  for (int64_t r = 0; r < blk.rows; ++r) {
    const int64_t y = blk.y0 + r;
    for (int64_t ij = 0; ij < PP; ++ij) {  // transpose this row's weights into lane blocks
      const T* row = wt.at(blk.b, ij, y);
      for (int64_t x0 = 0; x0 < w; x0 += L) {
        const int n = static_cast<int>(std::min<int64_t>(L, w - x0));
        store(wbuf + ((x0 / L) * PP + ij) * L, n == L ? load<V>(row + x0) : load_range<V>(row + x0, 0, n));
      }
    }
    for (int64_t c0 = 0; c0 < C; c0 += kMaxChannels) {
      const int CB = static_cast<int>(std::min<int64_t>(kMaxChannels, C - c0));
      const T* v = vbuf + (c0 * lay.v_rows + r) * lay.v_pitch;
      for (int64_t x0 = 0; x0 < w; x0 += L) {
        const int n = static_cast<int>(std::min<int64_t>(L, w - x0));
        T* op = out + ((blk.b * C + c0) * h + y) * w + x0;
        aggregate_block<T, V>(CB, wbuf + (x0 / L) * PP * L, v + x0, lay.v_rows * lay.v_pitch, d * lay.v_pitch, P,
                              d, op, plane, n);
      }
    }
  }
}

// --- scatter ---------------------------------------------------------------------------------

// out[c0+cc][Y][X..X+L] += sum_j wpad[j][t - j*d] * gpad[c0+cc][t - j*d], t = X + 2M: the rows of
// weights and grid were copied, zero-extended by 2M on both sides, so no load needs a bound.
template <typename T, typename V, int CB>
MAST_TILE void scatter_tile(const T* wpad, const T* gpad, int64_t w_pitch, int64_t g_stride, int64_t P, int64_t d, T* out,
                  int64_t osc, int n) {
  constexpr int L = lanes<V, T>();
  V acc[CB];
  for (int cc = 0; cc < CB; ++cc)
    acc[cc] = n == L ? load<V>(out + cc * osc) : load_range<V>(out + cc * osc, 0, n);
  for (int64_t j = 0; j < P; ++j) {
    const int64_t shift = j * d;
    const V wv = load<V>(wpad + j * w_pitch - shift);
    for (int cc = 0; cc < CB; ++cc) acc[cc] += wv * load<V>(gpad + cc * g_stride - shift);
  }
  for (int cc = 0; cc < CB; ++cc) {
    if (n == L)
      store(out + cc * osc, acc[cc]);
    else
      store_range(out + cc * osc, acc[cc], 0, n);
  }
}

template <typename T, typename V>
void scatter_block(int CB, const T* wpad, const T* gpad, int64_t w_pitch, int64_t g_stride, int64_t P, int64_t d,
                   T* out, int64_t osc, int n) {
  switch (CB) {
#define MAST_CASE(N) \
  case N:            \
    return scatter_tile<T, V, N>(wpad, gpad, w_pitch, g_stride, P, d, out, osc, n);
    MAST_CASE(1) MAST_CASE(2) MAST_CASE(3) MAST_CASE(4) MAST_CASE(5) MAST_CASE(6) MAST_CASE(7) MAST_CASE(8)
#undef MAST_CASE
  }
}

// Copies row `src` (length w) into dst[margin .. margin+w), zeros elsewhere in [0, pitch).
template <typename T>
void padded_copy(T* dst, const T* src, int64_t w, int64_t margin, int64_t pitch) {
  std::fill(dst, dst + margin, T(0));
  copy_short<typename Simd<T>::type>(dst + margin, src, w);
  std::fill(dst + margin + w, dst + pitch, T(0));
}

struct ScatterLayout {
  int64_t pitch, g_rows;  // padded row (w + 4M + slack); grid rows a block of output rows reaches
  int64_t scratch(int64_t P, int64_t C) const { return P * pitch + C * g_rows * pitch; }
};

template <typename T>
ScatterLayout scatter_layout(int64_t w, int64_t M, int64_t P, int64_t d, int64_t R) {
  return {w + 4 * M + simd_lanes<T>(), R + (P - 1) * d};
}

// Output rows Y0 .. Y0+R of the padded grid: out[Y] gathers query rows y = Y - i*d. The grid
// rows the block reaches are copied once; each (Y, i) copies its P weight rows.
template <typename T>
void scatter_rows(const Grid<const T>& wt, const Grid<const T>& g, T* out, const RowBlock& blk, int64_t P,
                  int64_t d, T* scratch) {
  typedef typename Simd<T>::type V;
  constexpr int L = simd_lanes<T>();
  const int64_t h = g.H, w = g.W, C = g.C, M = (P / 2) * d;
  const int64_t HP = h + 2 * M, WP = w + 2 * M, plane = HP * WP;
  const ScatterLayout lay = scatter_layout<T>(w, M, P, d, blk.rows);
  const int64_t y_first = blk.y0 - (P - 1) * d;  // grid row of buffer row 0
  T* wpad = scratch;
  T* gbuf = scratch + P * lay.pitch;  // gbuf[c][y - y_first][pitch]
  for (int64_t c = 0; c < C; ++c)
    for (int64_t u = 0; u < lay.g_rows; ++u) {
      const int64_t y = y_first + u;
      if (y >= 0 && y < h) padded_copy(gbuf + (c * lay.g_rows + u) * lay.pitch, g.at(blk.b, c, y), w, 2 * M, lay.pitch);
    }
  for (int64_t r = 0; r < blk.rows; ++r) {
    const int64_t Y = blk.y0 + r;
    for (int64_t i = 0; i < P; ++i) {
      const int64_t y = Y - i * d;
      if (y < 0 || y >= h) continue;
      for (int64_t j = 0; j < P; ++j)
        padded_copy(wpad + j * lay.pitch, wt.at(blk.b, i * P + j, y), w, 2 * M, lay.pitch);
      const T* grow = gbuf + (y - y_first) * lay.pitch;
      for (int64_t c0 = 0; c0 < C; c0 += kMaxChannels) {
        const int CB = static_cast<int>(std::min<int64_t>(kMaxChannels, C - c0));
        for (int64_t X0 = 0; X0 < WP; X0 += L) {
          const int n = static_cast<int>(std::min<int64_t>(L, WP - X0));
          const int64_t t = X0 + 2 * M;
          T* op = out + ((blk.b * C + c0) * HP + Y) * WP + X0;
          scatter_block<T, V>(CB, wpad + t, grow + c0 * lay.g_rows * lay.pitch + t, lay.pitch,
                              lay.g_rows * lay.pitch, P, d, op, plane, n);
        }
      }
    }
  }
}

int64_t window_side(int64_t radius) { return 2 * radius + 1; }

void check_window(int64_t radius, int64_t dilation) {
  TORCH_CHECK(radius >= 0 && dilation >= 1, "window: radius must be >= 0 and dilation >= 1");
}

}  // namespace

at::Tensor window_corr(const at::Tensor& query_in, const at::Tensor& key_in, int64_t radius, int64_t dilation) {
  check_window(radius, dilation);
  const at::Tensor query = rows_contiguous(query_in), key = rows_contiguous(key_in);
  const int64_t B = query.size(0), h = query.size(2), w = query.size(3), P = window_side(radius);
  const int64_t M = radius * dilation;
  TORCH_CHECK(key.size(0) == B && key.size(1) == query.size(1) && key.size(2) == h + 2 * M &&
                  key.size(3) == w + 2 * M,
              "window_corr: padded key does not match the query grid");
  TORCH_CHECK(key.scalar_type() == query.scalar_type(), "window_corr: dtypes differ");
  at::Tensor out = at::empty({B, P * P, h, w}, query.options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(query.scalar_type(), "window_corr", [&] {
    const auto q = const_grid<scalar_t>(query);
    const auto k = const_grid<scalar_t>(key);
    scalar_t* o = out.data_ptr<scalar_t>();
    const int64_t R = rows_per_task(B * h);
    const int64_t scratch = corr_layout<scalar_t>(w, key.size(3)).scratch(P, query.size(1), R);
    parallel_tasks<scalar_t>(block_tasks(B, h, R), scratch, [&](int64_t t, scalar_t* buffer) {
      corr_rows(q, k, o, row_block(t, h, R), P, dilation, buffer);
    });
  });
  return out;
}

at::Tensor window_aggregate(const at::Tensor& weights_in, const at::Tensor& values_in, int64_t radius,
                            int64_t dilation) {
  check_window(radius, dilation);
  const at::Tensor weights = rows_contiguous(weights_in), values = rows_contiguous(values_in);
  const int64_t B = weights.size(0), h = weights.size(2), w = weights.size(3), P = window_side(radius);
  const int64_t M = radius * dilation;
  TORCH_CHECK(weights.size(1) == P * P, "window_aggregate: weights must have P*P channels");
  TORCH_CHECK(values.size(0) == B && values.size(2) == h + 2 * M && values.size(3) == w + 2 * M,
              "window_aggregate: padded values do not match the weights' grid");
  TORCH_CHECK(values.scalar_type() == weights.scalar_type(), "window_aggregate: dtypes differ");
  const int64_t C = values.size(1);
  at::Tensor out = at::empty({B, C, h, w}, values.options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "window_aggregate", [&] {
    const auto wt = const_grid<scalar_t>(weights);
    const auto v = const_grid<scalar_t>(values);
    scalar_t* o = out.data_ptr<scalar_t>();
    const int64_t R = rows_per_task(B * h);
    const int64_t scratch = aggregate_layout<scalar_t>(w, values.size(3), P, dilation, R).scratch(P, C, simd_lanes<scalar_t>());
    parallel_tasks<scalar_t>(block_tasks(B, h, R), scratch, [&](int64_t t, scalar_t* buffer) {
      aggregate_rows(wt, v, o, row_block(t, h, R), P, dilation, buffer);
    });
  });
  return out;
}

at::Tensor window_scatter(const at::Tensor& weights_in, const at::Tensor& grid_in, int64_t radius,
                          int64_t dilation) {
  check_window(radius, dilation);
  const at::Tensor weights = rows_contiguous(weights_in), g = rows_contiguous(grid_in);
  const int64_t B = weights.size(0), h = weights.size(2), w = weights.size(3), P = window_side(radius);
  const int64_t M = radius * dilation, C = g.size(1);
  TORCH_CHECK(weights.size(1) == P * P, "window_scatter: weights must have P*P channels");
  TORCH_CHECK(g.size(0) == B && g.size(2) == h && g.size(3) == w, "window_scatter: grid does not match the weights");
  TORCH_CHECK(g.scalar_type() == weights.scalar_type(), "window_scatter: dtypes differ");
  const int64_t HP = h + 2 * M;
  at::Tensor out = at::zeros({B, C, HP, w + 2 * M}, g.options().memory_format(at::MemoryFormat::Contiguous));
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "window_scatter", [&] {
    const auto wt = const_grid<scalar_t>(weights);
    const auto gg = const_grid<scalar_t>(g);
    scalar_t* o = out.data_ptr<scalar_t>();
    const int64_t R = rows_per_task(B * HP);
    const int64_t scratch = scatter_layout<scalar_t>(w, M, P, dilation, R).scratch(P, C);
    parallel_tasks<scalar_t>(block_tasks(B, HP, R), scratch, [&](int64_t t, scalar_t* buffer) {
      scatter_rows(wt, gg, o, row_block(t, HP, R), P, dilation, buffer);
    });
  });
  return out;
}

}  // namespace mast
