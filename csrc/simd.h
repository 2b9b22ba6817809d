// Shared building blocks of the CPU kernels: 32-byte SIMD lanes, strided grid views and the
// single parallel region every kernel runs in.
//
// Lanes use GCC/Clang vector extensions rather than intrinsics: built with -mavx2 -mfma they are
// AVX2 registers and `acc += a * b` becomes an FMA (-ffp-contract=fast); elsewhere the same code
// compiles to narrower registers. Loads and stores go through memcpy, so no alignment is assumed.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

// Inner tiles are compiled as functions of their own: inlined into their callers, the compiler
// runs out of registers and spills the loop counters and offsets (a store-to-load dependency in
// every iteration), which costs about a third of the speed.
#define MAST_TILE __attribute__((noinline))

namespace mast {

template <typename T>
struct Simd;
template <>
struct Simd<float> {
  typedef float type __attribute__((vector_size(32)));
  typedef int32_t bits __attribute__((vector_size(32)));
};
template <>
struct Simd<double> {
  typedef double type __attribute__((vector_size(32)));
  typedef int64_t bits __attribute__((vector_size(32)));
};

template <typename V, typename T>
constexpr int lanes() {
  return static_cast<int>(sizeof(V) / sizeof(T));
}

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <typename V, typename T>
inline void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// Lanes [lo, hi) of p (others zero): loads that must not touch memory outside the valid range.
template <typename V, typename T>
inline V load_range(const T* p, int lo, int hi) {
  V v = {};
  for (int l = lo; l < hi; ++l) v[l] = p[l];
  return v;
}

template <typename V, typename T>
inline void store_range(T* p, const V& v, int lo, int hi) {
  for (int l = lo; l < hi; ++l) p[l] = v[l];
}

// n elements (known only at run time) without a call to memcpy: whole vectors, then lanes.
template <typename V, typename T>
inline void copy_short(T* dst, const T* src, int64_t n) {
  constexpr int L = lanes<V, T>();
  int64_t i = 0;
  for (; i + L <= n; i += L) store(dst + i, load<V>(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

template <typename V, typename T>
inline V splat(T s) {
  V v = {};
  return v + s;
}

// Sum of the lanes, always in the same order (results do not depend on anything but the data).
template <typename T, typename V>
inline T lane_sum(const V& v) {
  T a[lanes<V, T>()];
  std::memcpy(a, &v, sizeof(V));
  T s = 0;
  for (int l = 0; l < lanes<V, T>(); ++l) s += a[l];
  return s;
}

// Lanes >= n set to +0 (bitwise, so inf/nan read past a window cannot leak into a sum).
template <typename T>
inline typename Simd<T>::type keep_first(const typename Simd<T>::type& v, int n) {
  typedef typename Simd<T>::type V;
  typedef typename Simd<T>::bits I;
  I mask = {};
  for (int l = 0; l < lanes<V, T>(); ++l) mask[l] = l < n ? -1 : 0;
  return (V)((I)v & mask);
}

// A (B, C, H, W) tensor view with unit stride along W (rows are contiguous).
template <typename T>
struct Grid {
  T* data;
  int64_t sb, sc, sy;
  int64_t B, C, H, W;
  T* at(int64_t b, int64_t c, int64_t y) const { return data + b * sb + c * sc + y * sy; }
};

template <typename T>
Grid<T> grid(const at::Tensor& t) {
  return {t.data_ptr<T>(), t.stride(0), t.stride(1), t.stride(2), t.size(0), t.size(1), t.size(2), t.size(3)};
}

template <typename T>
Grid<const T> const_grid(const at::Tensor& t) {
  return {t.const_data_ptr<T>(), t.stride(0), t.stride(1), t.stride(2), t.size(0), t.size(1), t.size(2), t.size(3)};
}

template <typename T>
T* last_element(const Grid<T>& g) {
  return g.at(g.B - 1, g.C - 1, g.H - 1) + g.W - 1;
}

// One OpenMP parallel region over `tasks` independent tasks, handed out dynamically (a thread
// that gets descheduled on a busy machine does not hold the others up). Each task writes its own
// outputs only, so results do not depend on the thread count. `scratch` elements of per-thread
// workspace are passed to every task.
template <typename T, typename F>
void parallel_tasks(int64_t tasks, int64_t scratch, const F& task) {
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), tasks)));
#pragma omp parallel num_threads(threads)
  {
    std::vector<T> workspace(static_cast<size_t>(std::max<int64_t>(scratch, 1)));
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) task(t, workspace.data());
  }
}

// Every tensor argument the kernels accept: CPU, one floating dtype, rows contiguous.
inline at::Tensor rows_contiguous(const at::Tensor& t) {
  TORCH_CHECK(t.device().is_cpu(), "mast_bench kernels: expected a CPU tensor");
  TORCH_CHECK(t.dim() == 4, "mast_bench kernels: expected a 4-D tensor, got ", t.dim(), " dimensions");
  return t.size(3) > 1 && t.stride(3) != 1 ? t.contiguous() : t;
}

}  // namespace mast
