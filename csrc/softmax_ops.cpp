// The joint softmax of the memory read (the CPU implementation of mast_bench::joint_softmax): one
// softmax over the candidates of several tensors together. Each part is (B, K, n) (candidates
// first, dim 1) or (B, n, K) (candidates last, dim 2) over the same n query positions:
//   out = exp(scale * x - scale * max) / sum,  max and sum over all candidates of all parts.
// A task is a block of query positions: three passes over its candidates (max, exp and sum,
// normalise), each streaming through contiguous row segments, exp computed on whole vectors.
#include "kernels.h"
#include "simd.h"

#include <cmath>
#include <limits>

namespace mast {
namespace {

constexpr int64_t kChunk = 64;  // query positions per task: their candidates stay in L2 across the passes

template <typename T>
constexpr int simd_lanes() {
  return lanes<typename Simd<T>::type, T>();
}

typedef Simd<float>::type F8;
typedef Simd<float>::bits I8;

// exp on 8 floats: Cephes' expf (range reduction by ln 2, degree-6 polynomial, 2^n through the
// exponent bits), within 2 ulp, for inputs up to 88; -inf and inputs below -88.4 give 0.
inline F8 exp8(F8 x) {
  const F8 hi = splat<F8>(88.0f), lo = splat<F8>(-88.3762626647949f);
  x = x > hi ? hi : x;
  const I8 under = x < lo;
  x = under ? lo : x;
  const F8 t = x * 1.44269504088896341f + 0.5f;
  I8 n = __builtin_convertvector(t, I8);
  n = __builtin_convertvector(n, F8) > t ? n - 1 : n;  // floor
  const F8 fn = __builtin_convertvector(n, F8);
  F8 r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  F8 p = splat<F8>(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  const I8 scale_bits = (n + 127) << 23;
  const F8 result = p * (F8)scale_bits;
  return under ? splat<F8>(0.0f) : result;
}

// exp over a vector of lanes: exp8 for float, lane by lane for double (used by tests only).
inline F8 exp_lanes(F8 x) { return exp8(x); }

inline Simd<double>::type exp_lanes(Simd<double>::type x) {
  for (int l = 0; l < 4; ++l) x[l] = std::exp(x[l]);
  return x;
}

struct Part {
  void* in;
  void* out;
  int64_t K;
  bool candidates_first;
};

// Per-position statistics of one task's positions, as whole vectors (chunk rounded up).
template <typename T>
struct Stats {
  T* peak;
  T* total;
};

// Candidates first: rows of the part are walked in order, each row's segment [p0, p0+nb) is
// contiguous, so the three passes stream through memory.
template <typename T, typename V>
void first_max(const Part& part, int64_t n, int64_t b, int64_t p0, int64_t nb, const Stats<T>& st) {
  constexpr int L = lanes<V, T>();
  const T* x = static_cast<const T*>(part.in);
  for (int64_t k = 0; k < part.K; ++k) {
    const T* row = x + (b * part.K + k) * n + p0;
    int64_t p = 0;
    for (; p + L <= nb; p += L) {
      const V xv = load<V>(row + p), m = load<V>(st.peak + p);
      store(st.peak + p, xv > m ? xv : m);
    }
    for (; p < nb; ++p) st.peak[p] = row[p] > st.peak[p] ? row[p] : st.peak[p];
  }
}

template <typename T, typename V>
void first_exp(const Part& part, int64_t n, int64_t b, int64_t p0, int64_t nb, T scale, const Stats<T>& st) {
  constexpr int L = lanes<V, T>();
  const T* x = static_cast<const T*>(part.in);
  T* y = static_cast<T*>(part.out);
  const V sc = splat<V>(scale);
  for (int64_t k = 0; k < part.K; ++k) {
    const int64_t at = (b * part.K + k) * n + p0;
    int64_t p = 0;
    for (; p + L <= nb; p += L) {
      const V e = exp_lanes(sc * load<V>(x + at + p) - load<V>(st.peak + p));
      store(y + at + p, e);
      store(st.total + p, load<V>(st.total + p) + e);
    }
    if (p < nb) {
      const int left = static_cast<int>(nb - p);
      const V e = exp_lanes(sc * load_range<V>(x + at + p, 0, left) - load<V>(st.peak + p));
      store_range(y + at + p, e, 0, left);
      store(st.total + p, load<V>(st.total + p) + e);  // lanes >= left are never read
    }
  }
}

template <typename T, typename V>
void first_scale(const Part& part, int64_t n, int64_t b, int64_t p0, int64_t nb, const Stats<T>& st) {
  constexpr int L = lanes<V, T>();
  T* y = static_cast<T*>(part.out);
  for (int64_t k = 0; k < part.K; ++k) {
    T* row = y + (b * part.K + k) * n + p0;
    int64_t p = 0;
    for (; p + L <= nb; p += L) store(row + p, load<V>(row + p) * load<V>(st.total + p));
    for (; p < nb; ++p) row[p] *= st.total[p];
  }
}

// Candidates last: one contiguous row of K candidates per position.
template <typename T, typename V>
T last_max(const T* row, int64_t K) {
  constexpr int L = lanes<V, T>();
  V m = splat<V>(-std::numeric_limits<T>::infinity());
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    const V xv = load<V>(row + k);
    m = xv > m ? xv : m;
  }
  T out = -std::numeric_limits<T>::infinity();
  for (int l = 0; l < L; ++l) out = m[l] > out ? m[l] : out;
  for (; k < K; ++k) out = row[k] > out ? row[k] : out;
  return out;
}

template <typename T, typename V>
T last_exp(const T* row, T* out, int64_t K, T scale, T shift) {
  constexpr int L = lanes<V, T>();
  const V sc = splat<V>(scale), s = splat<V>(shift);
  V sum = {};
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    const V e = exp_lanes(sc * load<V>(row + k) - s);
    store(out + k, e);
    sum += e;
  }
  if (k < K) {
    const int left = static_cast<int>(K - k);
    const V e = exp_lanes(sc * load_range<V>(row + k, 0, left) - s);
    store_range(out + k, e, 0, left);
    sum += keep_first<T>(e, left);
  }
  return lane_sum<T>(sum);
}

template <typename T, typename V>
void last_scale(T* row, int64_t K, T factor) {
  constexpr int L = lanes<V, T>();
  const V f = splat<V>(factor);
  int64_t k = 0;
  for (; k + L <= K; k += L) store(row + k, load<V>(row + k) * f);
  for (; k < K; ++k) row[k] *= factor;
}

// Positions p0..p0+nb of batch b: maximum, exp and sum, normalisation, over every part.
template <typename T>
void softmax_chunk(const std::vector<Part>& parts, int64_t n, int64_t b, int64_t p0, int64_t nb, T scale,
                   T* scratch) {
  typedef typename Simd<T>::type V;
  const Stats<T> st{scratch, scratch + kChunk + lanes<V, T>()};
  std::fill(st.peak, st.peak + nb, -std::numeric_limits<T>::infinity());
  std::fill(st.total, st.total + nb, T(0));
  for (const Part& part : parts) {
    if (part.candidates_first) {
      first_max<T, V>(part, n, b, p0, nb, st);
      continue;
    }
    const T* x = static_cast<const T*>(part.in);
    for (int64_t p = 0; p < nb; ++p) {
      const T m = last_max<T, V>(x + (b * n + p0 + p) * part.K, part.K);
      st.peak[p] = m > st.peak[p] ? m : st.peak[p];
    }
  }
  for (int64_t p = 0; p < nb; ++p) st.peak[p] *= scale;  // from here on: the shift scale * max
  for (const Part& part : parts) {
    if (part.candidates_first) {
      first_exp<T, V>(part, n, b, p0, nb, scale, st);
      continue;
    }
    const T* x = static_cast<const T*>(part.in);
    T* y = static_cast<T*>(part.out);
    for (int64_t p = 0; p < nb; ++p) {
      const int64_t at = (b * n + p0 + p) * part.K;
      st.total[p] += last_exp<T, V>(x + at, y + at, part.K, scale, st.peak[p]);
    }
  }
  for (int64_t p = 0; p < nb; ++p) st.total[p] = T(1) / st.total[p];  // from here on: 1 / sum
  for (const Part& part : parts) {
    if (part.candidates_first) {
      first_scale<T, V>(part, n, b, p0, nb, st);
      continue;
    }
    T* y = static_cast<T*>(part.out);
    for (int64_t p = 0; p < nb; ++p) last_scale<T, V>(y + (b * n + p0 + p) * part.K, part.K, st.total[p]);
  }
}

// Backward of one chunk: grad_x = scale * y * (g - sum over all candidates of g * y).
template <typename T>
void softmax_backward_chunk(const std::vector<Part>& grads, const std::vector<Part>& outs, int64_t n, int64_t b,
                            int64_t p0, int64_t nb, T scale, T* dot) {
  typedef typename Simd<T>::type V;
  constexpr int L = lanes<V, T>();
  std::fill(dot, dot + nb, T(0));
  for (size_t i = 0; i < outs.size(); ++i) {
    const T* g = static_cast<const T*>(grads[i].in);
    const T* y = static_cast<const T*>(outs[i].in);
    const Part& part = outs[i];
    if (part.candidates_first) {
      for (int64_t k = 0; k < part.K; ++k) {
        const int64_t at = (b * part.K + k) * n + p0;
        int64_t p = 0;
        for (; p + L <= nb; p += L) store(dot + p, load<V>(dot + p) + load<V>(g + at + p) * load<V>(y + at + p));
        for (; p < nb; ++p) dot[p] += g[at + p] * y[at + p];
      }
    } else {
      for (int64_t p = 0; p < nb; ++p) {
        const int64_t at = (b * n + p0 + p) * part.K;
        V sum = {};
        int64_t k = 0;
        for (; k + L <= part.K; k += L) sum += load<V>(g + at + k) * load<V>(y + at + k);
        T rest = lane_sum<T>(sum);
        for (; k < part.K; ++k) rest += g[at + k] * y[at + k];
        dot[p] += rest;
      }
    }
  }
  const V sc = splat<V>(scale);
  for (size_t i = 0; i < outs.size(); ++i) {
    const T* g = static_cast<const T*>(grads[i].in);
    const T* y = static_cast<const T*>(outs[i].in);
    T* dx = static_cast<T*>(grads[i].out);
    const Part& part = outs[i];
    if (part.candidates_first) {
      for (int64_t k = 0; k < part.K; ++k) {
        const int64_t at = (b * part.K + k) * n + p0;
        int64_t p = 0;
        for (; p + L <= nb; p += L)
          store(dx + at + p, sc * load<V>(y + at + p) * (load<V>(g + at + p) - load<V>(dot + p)));
        for (; p < nb; ++p) dx[at + p] = scale * y[at + p] * (g[at + p] - dot[p]);
      }
    } else {
      for (int64_t p = 0; p < nb; ++p) {
        const int64_t at = (b * n + p0 + p) * part.K;
        const V d = splat<V>(dot[p]);
        int64_t k = 0;
        for (; k + L <= part.K; k += L) store(dx + at + k, sc * load<V>(y + at + k) * (load<V>(g + at + k) - d));
        for (; k < part.K; ++k) dx[at + k] = scale * y[at + k] * (g[at + k] - dot[p]);
      }
    }
  }
}

}  // namespace

std::vector<at::Tensor> joint_softmax(const std::vector<at::Tensor>& inputs, const std::vector<int64_t>& dims,
                                      double scale) {
  TORCH_CHECK(!inputs.empty() && inputs.size() == dims.size(), "joint_softmax: one candidate dim per part");
  TORCH_CHECK(scale > 0, "joint_softmax: scale must be > 0");
  const at::Tensor& first = inputs[0];
  TORCH_CHECK(first.dim() == 3, "joint_softmax: parts must be 3-D");
  const int64_t B = first.size(0), n = first.size(dims[0] == 1 ? 2 : 1);
  std::vector<at::Tensor> contiguous, outputs;
  std::vector<Part> parts;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& x = inputs[i];
    TORCH_CHECK(dims[i] == 1 || dims[i] == 2, "joint_softmax: candidate dim must be 1 or 2");
    TORCH_CHECK(x.device().is_cpu() && x.dim() == 3 && x.scalar_type() == first.scalar_type(),
                "joint_softmax: parts must be 3-D CPU tensors of one dtype");
    TORCH_CHECK(x.size(0) == B && x.size(dims[i] == 1 ? 2 : 1) == n, "joint_softmax: parts disagree on (B, n)");
    contiguous.push_back(x.contiguous());
    outputs.push_back(at::empty_like(contiguous.back(), at::MemoryFormat::Contiguous));
    parts.push_back({contiguous.back().data_ptr(), outputs.back().data_ptr(), x.size(dims[i]), dims[i] == 1});
  }
  if (B == 0 || n == 0) return outputs;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  AT_DISPATCH_FLOATING_TYPES(first.scalar_type(), "joint_softmax", [&] {
    const scalar_t s = static_cast<scalar_t>(scale);
    const int64_t scratch = 2 * (kChunk + simd_lanes<scalar_t>());
    parallel_tasks<scalar_t>(B * chunks, scratch, [&](int64_t t, scalar_t* buffer) {
      const int64_t b = t / chunks, p0 = (t % chunks) * kChunk;
      softmax_chunk<scalar_t>(parts, n, b, p0, std::min<int64_t>(kChunk, n - p0), s, buffer);
    });
  });
  return outputs;
}

}  // namespace mast

namespace mast {

std::vector<at::Tensor> joint_softmax_backward(const std::vector<at::Tensor>& grads_in,
                                               const std::vector<at::Tensor>& outputs_in,
                                               const std::vector<int64_t>& dims, double scale) {
  TORCH_CHECK(!outputs_in.empty() && grads_in.size() == outputs_in.size() && dims.size() == outputs_in.size(),
              "joint_softmax_backward: one gradient and one candidate dim per output");
  const at::Tensor& first = outputs_in[0];
  const int64_t B = first.size(0), n = first.size(dims[0] == 1 ? 2 : 1);
  std::vector<at::Tensor> grads, outputs, result;
  std::vector<Part> grad_parts, out_parts;
  for (size_t i = 0; i < outputs_in.size(); ++i) {
    TORCH_CHECK(grads_in[i].sizes() == outputs_in[i].sizes() && grads_in[i].scalar_type() == first.scalar_type() &&
                    outputs_in[i].scalar_type() == first.scalar_type() && outputs_in[i].device().is_cpu(),
                "joint_softmax_backward: gradients must match the outputs (CPU, one dtype)");
    grads.push_back(grads_in[i].contiguous());
    outputs.push_back(outputs_in[i].contiguous());
    result.push_back(at::empty_like(outputs.back(), at::MemoryFormat::Contiguous));
    const int64_t K = outputs.back().size(dims[i]);
    grad_parts.push_back({grads.back().data_ptr(), result.back().data_ptr(), K, dims[i] == 1});
    out_parts.push_back({outputs.back().data_ptr(), nullptr, K, dims[i] == 1});
  }
  if (B == 0 || n == 0) return result;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  AT_DISPATCH_FLOATING_TYPES(first.scalar_type(), "joint_softmax_backward", [&] {
    const scalar_t s = static_cast<scalar_t>(scale);
    parallel_tasks<scalar_t>(B * chunks, kChunk + simd_lanes<scalar_t>(), [&](int64_t t, scalar_t* buffer) {
      const int64_t b = t / chunks, p0 = (t % chunks) * kChunk;
      softmax_backward_chunk<scalar_t>(grad_parts, out_parts, n, b, p0, std::min<int64_t>(kChunk, n - p0), s, buffer);
    });
  });
  return result;
}

}  // namespace mast
