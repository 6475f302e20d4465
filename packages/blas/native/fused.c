// @ablate/blas: fused kernels for the tfjs wasm backend, on tensors in the wasm heap (read and written in place).
// Each replaces a chain of wasm's elementwise kernels that reads and writes the whole tensor once per op: one pass
// here instead of 5–10 there. The model calls them through tfjs kernels (src/fused.ts) where @ablate/blas is installed.
//
//   transpose        any permutation of 4-byte elements (wasm's own is a scalar loop: 280 ms for small's 5-D one)
//   gelu / geluGrad  tanh-approximation GELU and its derivative, recomputed from x (nothing else saved)
//   layerNorm(Grad)  LayerNorm over the last axis: y, x̂ and rstd; dx, dγ, dβ
//   softmax(Grad)    softmax(scale·s + mask) over the last axis; dS = scale·p·(dP − Σ dP·p)
//   adamw            one AdamW step of one parameter (PyTorch's formula, as packages/train/src/adamw.ts)
#define NAPI_VERSION 8
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define THROW(env, msg) do { napi_throw_error((env), NULL, (msg)); return NULL; } while (0)

// Hot loops get AVX-512 and AVX2+FMA clones, one chosen at load time (the addon may be built on one x86 machine and run
// on another).
// (GCC 11 and later know the x86-64-v3/v4 names; older compilers and clang build the baseline only.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

#define MAX_ARGS 24

// Reads (heap, number, number, ...): the heap's bytes and length, and d[1..argc-1]. Throws and returns 0 on a type error.
static int args(napi_env env, napi_callback_info info, size_t want, const char *name, uint8_t **heap, size_t *heapLen, double *d) {
  size_t argc = MAX_ARGS; napi_value argv[MAX_ARGS];
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    snprintf(msg, sizeof msg, "ablate_blas.%s: expected %zu arguments", name, want);
    napi_throw_error(env, NULL, msg);
    return 0;
  }
  void *p;
  if (napi_get_arraybuffer_info(env, argv[0], &p, heapLen) != napi_ok) {
    snprintf(msg, sizeof msg, "ablate_blas.%s: heap must be an ArrayBuffer", name);
    napi_throw_error(env, NULL, msg);
    return 0;
  }
  *heap = (uint8_t *)p;
  for (size_t i = 1; i < want; i++) {
    if (napi_get_value_double(env, argv[i], &d[i]) != napi_ok) {
      snprintf(msg, sizeof msg, "ablate_blas.%s: argument %zu must be a number", name, i);
      napi_throw_error(env, NULL, msg);
      return 0;
    }
  }
  return 1;
}

// A float32 array of n elements at byte offset off lies inside the heap (a bad offset must not become a segfault).
static int inside(double off, double n, size_t heapLen) { return off >= 0 && n >= 0 && off + 4.0 * n <= (double)heapLen && fmod(off, 4.0) == 0; }
#define F32(heap, off) ((float *)((heap) + (size_t)(off)))
// A size argument: a whole number, not negative (fractions and NaN must not truncate into a different size).
static int whole(double d) { return d >= 0 && d == floor(d) && d <= 9007199254740992.0; }

// exp(x) to ~2 ulp: Cephes' expf, written so that the compiler vectorises it (magic-number rounding, exponent bits by
// integer shift). Below −87 it returns exactly 0, never a denormal: a −1e9 attention mask must give probabilities
// of 0, since denormals in a matmul's operands make OpenBLAS (the CPU's microcode, really) 5× slower. Above 88: e⁸⁸.
static inline float vexp(float x0) {
  const float x = x0 < -87.0f ? -87.0f : (x0 > 88.0f ? 88.0f : x0);
  const float magic = 12582912.0f; // 1.5·2²³: adding it rounds to an integer
  const float n = (x * 1.44269504088896341f + magic) - magic;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } s;
  s.i = ((int32_t)n + 127) << 23;
  return x0 < -87.0f ? 0.0f : p * s.f;
}

// ---- threads -----------------------------------------------------------------------------------------------------
// With BLAS_THREADS > 1 the big kernels split their rows over that many threads (the calling one and fresh pthreads,
// joined before returning): otherwise OpenBLAS's other threads sit idle while these run. Below MIN_PARALLEL elements
// one thread does it all (starting a thread costs ~20–50 µs).

int ablate_threads(void); // blas.c: the thread count asked for (setThreads)
#ifndef MIN_PARALLEL
#define MIN_PARALLEL (1 << 18)
#endif
#define MAX_THREADS 16

typedef void (*range_fn)(const void *ctx, int64_t begin, int64_t end, int tid);
struct range_job { range_fn f; const void *ctx; int64_t begin, end; int tid; };
static void *run_range(void *p) { const struct range_job *j = p; j->f(j->ctx, j->begin, j->end, j->tid); return NULL; }

// f over [0, n) in contiguous chunks, one per thread; returns the number of chunks (threads) used.
static int parallel_for(range_fn f, const void *ctx, int64_t n, double elements) {
  int t = ablate_threads();
  if (t > MAX_THREADS) t = MAX_THREADS;
  if (t > n) t = (int)n;
  if (t <= 1 || elements < MIN_PARALLEL) { f(ctx, 0, n, 0); return 1; }
  pthread_t th[MAX_THREADS]; struct range_job jobs[MAX_THREADS]; int started[MAX_THREADS];
  for (int i = 0; i < t; i++) jobs[i] = (struct range_job){ f, ctx, n * i / t, n * (i + 1) / t, i };
  for (int i = 1; i < t; i++) started[i] = pthread_create(&th[i], NULL, run_range, &jobs[i]) == 0;
  f(ctx, jobs[0].begin, jobs[0].end, 0);
  for (int i = 1; i < t; i++) {
    if (started[i]) pthread_join(th[i], NULL);
    else f(ctx, jobs[i].begin, jobs[i].end, i); // could not start one: do its share here
  }
  return t;
}

// Operands of one call, for the range functions below.
struct task { const float *in[4]; float *out[4]; int64_t rows, cols; float f[6]; const uint32_t *xu; uint32_t *yu; int64_t os[7], st[7]; int R; };

// ---- transpose ------------------------------------------------------------------------------------------------

HOT static void copy_tile(const uint32_t *restrict x, uint32_t *restrict y, int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  // y (rows, cols) contiguous ← x[i·sr + j·sc]
  if (sc == 1) {
    for (int64_t i = 0; i < rows; i++) memcpy(y + i * cols, x + i * sr, (size_t)cols * 4);
    return;
  }
  const int64_t TB = 32;
  for (int64_t i0 = 0; i0 < rows; i0 += TB) {
    const int64_t i1 = i0 + TB < rows ? i0 + TB : rows;
    for (int64_t j0 = 0; j0 < cols; j0 += TB) {
      const int64_t j1 = j0 + TB < cols ? j0 + TB : cols;
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) y[i * cols + j] = x[i * sr + j * sc];
    }
  }
}

// The output's tiles [begin, end) (all axes but the last two): each copy_tile'd from its place in the input.
static void transpose_tiles(const void *ctx, int64_t begin, int64_t end, int tid) {
  const struct task *t = ctx;
  const int R = t->R;
  const int64_t rows = t->os[R - 2], cols = t->os[R - 1], tile = rows * cols;
  int64_t idx[7] = {0}, rem = begin;
  for (int a = R - 3; a >= 0; a--) { idx[a] = rem % t->os[a]; rem /= t->os[a]; }
  for (int64_t o = begin; o < end; o++) {
    int64_t base = 0;
    for (int a = 0; a < R - 2; a++) base += idx[a] * t->st[a];
    copy_tile(t->xu + base, t->yu + o * tile, rows, cols, t->st[R - 2], t->st[R - 1]);
    for (int a = R - 3; a >= 0; a--) { if (++idx[a] < t->os[a]) break; idx[a] = 0; }
  }
}

// Rows [begin, end) of a 2-D output.
static void transpose_rows(const void *ctx, int64_t begin, int64_t end, int tid) {
  const struct task *t = ctx;
  copy_tile(t->xu + begin * t->st[0], t->yu + begin * t->os[1], end - begin, t->os[1], t->st[0], t->st[1]);
}

// transpose(heap, xOff, yOff, rank, d0..d5, p0..p5): y = x permuted by p (output axis a is input axis p[a]), 4-byte
// elements, rank ≤ 6 (the caller merges axes that stay together first).
static napi_value transpose(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[16];
  if (!args(env, info, 16, "transpose", &heap, &L, d)) return NULL;
  const int r = (int)d[3];
  if (r < 1 || r > 6) THROW(env, "ablate_blas.transpose: rank must be 1..6");
  int64_t shape[6], perm[6], n = 1, seen = 0;
  double nd = 1; // the size as a double: checked against the heap before the int64 product can overflow
  for (int a = 0; a < r; a++) {
    if (!whole(d[4 + a]) || !whole(d[10 + a])) THROW(env, "ablate_blas.transpose: bad shape or permutation");
    shape[a] = (int64_t)d[4 + a]; perm[a] = (int64_t)d[10 + a];
    if (perm[a] >= r || (seen & (1 << perm[a]))) THROW(env, "ablate_blas.transpose: bad shape or permutation");
    seen |= 1 << perm[a];
    nd *= d[4 + a];
  }
  if (!inside(d[1], nd, L) || !inside(d[2], nd, L)) THROW(env, "ablate_blas.transpose: operand outside the heap");
  for (int a = 0; a < r; a++) n *= shape[a];
  if (n == 0) return NULL;
  const uint32_t *x = (const uint32_t *)(heap + (size_t)d[1]);
  uint32_t *y = (uint32_t *)(heap + (size_t)d[2]);
  // input strides, then the output's shape and its strides into the input; pad to rank ≥ 2 with a leading 1
  int64_t inStride[6], os[7], st[7];
  inStride[r - 1] = 1;
  for (int a = r - 2; a >= 0; a--) inStride[a] = inStride[a + 1] * shape[a + 1];
  int R = 0;
  if (r == 1) { os[R] = 1; st[R] = 0; R++; }
  for (int a = 0; a < r; a++) { os[R] = shape[perm[a]]; st[R] = inStride[perm[a]]; R++; }
  struct task t = { .xu = x, .yu = y, .R = R };
  memcpy(t.os, os, sizeof os);
  memcpy(t.st, st, sizeof st);
  const int64_t tile = os[R - 2] * os[R - 1];
  if (R == 2 && os[0] >= 64) parallel_for(transpose_rows, &t, os[0], (double)n); // one 2-D tile: split its rows
  else parallel_for(transpose_tiles, &t, n / tile, (double)n);
  return NULL;
}

// ---- GELU (tanh approximation): x·σ(2u), u = √(2/π)·(x + 0.044715·x³) ----------------------------------------

#define GELU_K 0.7978845608028654f
#define GELU_C 0.044715f

HOT static void gelu_fwd(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    const float z = v * (2.0f * GELU_K + 2.0f * GELU_K * GELU_C * v * v); // 2u
    y[i] = v / (1.0f + vexp(-z));
  }
}

// dx = dy·(s + s·(1 − s)·x·2u'), s = σ(2u), 2u' = 2K + 6KC·x²
HOT static void gelu_bwd(const float *restrict x, const float *restrict dy, float *restrict dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i], v2 = v * v;
    const float s = 1.0f / (1.0f + vexp(-v * (2.0f * GELU_K + 2.0f * GELU_K * GELU_C * v2)));
    const float du = 2.0f * GELU_K + 6.0f * GELU_K * GELU_C * v2;
    dx[i] = dy[i] * (s + s * (1.0f - s) * v * du);
  }
}

static void gelu_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  gelu_fwd(t->in[0] + b, t->out[0] + b, e - b);
}
static void gelu_grad_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  gelu_bwd(t->in[0] + b, t->in[1] + b, t->out[0] + b, e - b);
}

// gelu(heap, xOff, yOff, n)
static napi_value gelu(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[4];
  if (!args(env, info, 4, "gelu", &heap, &L, d)) return NULL;
  if (!whole(d[3]) || !inside(d[1], d[3], L) || !inside(d[2], d[3], L)) THROW(env, "ablate_blas.gelu: operand outside the heap");
  struct task t = { .in = { F32(heap, d[1]) }, .out = { F32(heap, d[2]) } };
  parallel_for(gelu_range, &t, (int64_t)d[3], d[3]);
  return NULL;
}

// geluGrad(heap, xOff, dyOff, dxOff, n)
static napi_value gelu_grad(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[5];
  if (!args(env, info, 5, "geluGrad", &heap, &L, d)) return NULL;
  if (!whole(d[4]) || !inside(d[1], d[4], L) || !inside(d[2], d[4], L) || !inside(d[3], d[4], L)) THROW(env, "ablate_blas.geluGrad: operand outside the heap");
  struct task t = { .in = { F32(heap, d[1]), F32(heap, d[2]) }, .out = { F32(heap, d[3]) } };
  parallel_for(gelu_grad_range, &t, (int64_t)d[4], d[4]);
  return NULL;
}

// ---- LayerNorm over the last axis ------------------------------------------------------------------------------

HOT static void ln_fwd(const float *restrict x, const float *restrict g, const float *restrict b, float *restrict y, float *restrict xhat, float *restrict rstd, int64_t rows, int64_t cols, float eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols, *hr = xhat + r * cols;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < cols; j++) sum += xr[j];
    const float mean = sum / (float)cols;
    float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < cols; j++) { const float c = xr[j] - mean; sq += c * c; }
    const float rs = 1.0f / sqrtf(sq / (float)cols + eps);
    rstd[r] = rs;
    for (int64_t j = 0; j < cols; j++) {
      const float h = (xr[j] - mean) * rs;
      hr[j] = h;
      yr[j] = h * g[j] + b[j];
    }
  }
}

// g = dy·γ; dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dγ = Σ_rows dy·x̂; dβ = Σ_rows dy
HOT static void ln_bwd(const float *restrict dy, const float *restrict xhat, const float *restrict rstd, const float *restrict gamma, float *restrict dx, float *restrict dg, float *restrict db, int64_t rows, int64_t cols) {
  for (int64_t j = 0; j < cols; j++) { dg[j] = 0.0f; db[j] = 0.0f; }
  for (int64_t r = 0; r < rows; r++) {
    const float *dyr = dy + r * cols, *hr = xhat + r * cols;
    float *dxr = dx + r * cols;
    float sg = 0.0f, sgh = 0.0f;
#pragma omp simd reduction(+ : sg, sgh)
    for (int64_t j = 0; j < cols; j++) {
      const float gj = dyr[j] * gamma[j];
      sg += gj;
      sgh += gj * hr[j];
      dg[j] += dyr[j] * hr[j];
      db[j] += dyr[j];
    }
    const float mg = sg / (float)cols, mgh = sgh / (float)cols, rs = rstd[r];
    for (int64_t j = 0; j < cols; j++) dxr[j] = rs * (dyr[j] * gamma[j] - mg - hr[j] * mgh);
  }
}

static void ln_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  const int64_t C = t->cols;
  ln_fwd(t->in[0] + b * C, t->in[1], t->in[2], t->out[0] + b * C, t->out[1] + b * C, t->out[2] + b, e - b, C, t->f[0]);
}
static void ln_grad_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  const int64_t C = t->cols;
  float *dg = t->out[1] + 2 * C * tid;
  ln_bwd(t->in[0] + b * C, t->in[1] + b * C, t->in[2] + b, t->in[3], t->out[0] + b * C, dg, dg + C, e - b, C);
}

// layerNorm(heap, xOff, gammaOff, betaOff, yOff, xhatOff, rstdOff, rows, cols, eps)
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[10];
  if (!args(env, info, 10, "layerNorm", &heap, &L, d)) return NULL;
  const double rows = d[7], cols = d[8], n = rows * cols;
  if (!whole(rows) || !whole(cols) || cols < 1) THROW(env, "ablate_blas.layerNorm: bad shape");
  if (!inside(d[1], n, L) || !inside(d[2], cols, L) || !inside(d[3], cols, L) || !inside(d[4], n, L) || !inside(d[5], n, L) || !inside(d[6], rows, L))
    THROW(env, "ablate_blas.layerNorm: operand outside the heap");
  struct task t = { .in = { F32(heap, d[1]), F32(heap, d[2]), F32(heap, d[3]) }, .out = { F32(heap, d[4]), F32(heap, d[5]), F32(heap, d[6]) }, .rows = (int64_t)rows, .cols = (int64_t)cols, .f = { (float)d[9] } };
  parallel_for(ln_range, &t, (int64_t)rows, n);
  return NULL;
}

// layerNormGrad(heap, dyOff, xhatOff, rstdOff, gammaOff, dxOff, dgammaOff, dbetaOff, rows, cols)
static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[10];
  if (!args(env, info, 10, "layerNormGrad", &heap, &L, d)) return NULL;
  const double rows = d[8], cols = d[9], n = rows * cols;
  if (!whole(rows) || !whole(cols) || cols < 1) THROW(env, "ablate_blas.layerNormGrad: bad shape");
  if (!inside(d[1], n, L) || !inside(d[2], n, L) || !inside(d[3], rows, L) || !inside(d[4], cols, L) || !inside(d[5], n, L) || !inside(d[6], cols, L) ||
      !inside(d[7], cols, L))
    THROW(env, "ablate_blas.layerNormGrad: operand outside the heap");
  // each thread sums dγ and dβ over its rows into its own slice of `partial`; the slices are added at the end
  const int64_t C = (int64_t)cols;
  float *partial = malloc(sizeof(float) * 2 * (size_t)C * MAX_THREADS);
  if (partial == NULL) THROW(env, "ablate_blas.layerNormGrad: out of memory");
  struct task t = { .in = { F32(heap, d[1]), F32(heap, d[2]), F32(heap, d[3]), F32(heap, d[4]) }, .out = { F32(heap, d[5]), partial }, .rows = (int64_t)rows, .cols = C };
  const int used = parallel_for(ln_grad_range, &t, (int64_t)rows, n);
  float *dg = F32(heap, d[6]), *db = F32(heap, d[7]);
  for (int64_t j = 0; j < C; j++) { dg[j] = partial[j]; db[j] = partial[C + j]; }
  for (int i = 1; i < used; i++)
    for (int64_t j = 0; j < C; j++) { dg[j] += partial[2 * C * i + j]; db[j] += partial[2 * C * i + C + j]; }
  free(partial);
  return NULL;
}

// ---- softmax over the last axis, with a scale and an additive mask ----------------------------------------------

// p[r, :] = softmax(scale·s[r, :] + mask[r mod rows, :]) for the rows r0..r1 of all batch·rows: mask (rows, cols) is
// shared by every batch index (NULL: none)
HOT static void softmax_fwd(const float *restrict s, const float *restrict mask, float *restrict p, int64_t r0, int64_t r1, int64_t rows, int64_t cols, float scale) {
  {
    for (int64_t r = r0; r < r1; r++) {
      const float *sr = s + r * cols, *mr = mask ? mask + (r % rows) * cols : NULL;
      float *pr = p + r * cols;
      float mx = -INFINITY;
      if (mr) for (int64_t j = 0; j < cols; j++) { const float z = sr[j] * scale + mr[j]; pr[j] = z; mx = z > mx ? z : mx; }
      else for (int64_t j = 0; j < cols; j++) { const float z = sr[j] * scale; pr[j] = z; mx = z > mx ? z : mx; }
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < cols; j++) { const float e = vexp(pr[j] - mx); pr[j] = e; sum += e; }
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < cols; j++) pr[j] *= inv;
    }
  }
}

HOT static void softmax_bwd(const float *restrict p, const float *restrict dp, float *restrict ds, int64_t rows, int64_t cols, float scale) {
  for (int64_t i = 0; i < rows; i++) {
    const float *pr = p + i * cols, *dr = dp + i * cols;
    float *out = ds + i * cols;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; j++) dot += dr[j] * pr[j];
    for (int64_t j = 0; j < cols; j++) out[j] = scale * pr[j] * (dr[j] - dot);
  }
}

static void softmax_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  softmax_fwd(t->in[0], t->in[1], t->out[0], b, e, t->rows, t->cols, t->f[0]);
}
static void softmax_grad_range(const void *ctx, int64_t b, int64_t e, int tid) {
  const struct task *t = ctx;
  softmax_bwd(t->in[0] + b * t->cols, t->in[1] + b * t->cols, t->out[0] + b * t->cols, e - b, t->cols, t->f[0]);
}

// softmax(heap, sOff, maskOff (-1: none), pOff, batch, rows, cols, scale)
static napi_value softmax(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[8];
  if (!args(env, info, 8, "softmax", &heap, &L, d)) return NULL;
  const double batch = d[4], rows = d[5], cols = d[6], n = batch * rows * cols;
  if (!whole(batch) || !whole(rows) || !whole(cols) || cols < 1 || (rows < 1 && batch > 0)) THROW(env, "ablate_blas.softmax: bad shape");
  if (!inside(d[1], n, L) || !inside(d[3], n, L) || (d[2] != -1 && !inside(d[2], rows * cols, L))) THROW(env, "ablate_blas.softmax: operand outside the heap");
  struct task t = { .in = { F32(heap, d[1]), d[2] == -1 ? NULL : F32(heap, d[2]) }, .out = { F32(heap, d[3]) }, .rows = (int64_t)rows, .cols = (int64_t)cols, .f = { (float)d[7] } };
  parallel_for(softmax_range, &t, (int64_t)(batch * rows), n);
  return NULL;
}

// softmaxGrad(heap, pOff, dpOff, dsOff, rows, cols, scale)
static napi_value softmax_grad(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[7];
  if (!args(env, info, 7, "softmaxGrad", &heap, &L, d)) return NULL;
  const double rows = d[4], cols = d[5], n = rows * cols;
  if (!whole(rows) || !whole(cols) || cols < 1) THROW(env, "ablate_blas.softmaxGrad: bad shape");
  if (!inside(d[1], n, L) || !inside(d[2], n, L) || !inside(d[3], n, L)) THROW(env, "ablate_blas.softmaxGrad: operand outside the heap");
  struct task t = { .in = { F32(heap, d[1]), F32(heap, d[2]) }, .out = { F32(heap, d[3]) }, .cols = (int64_t)cols, .f = { (float)d[6] } };
  parallel_for(softmax_grad_range, &t, (int64_t)rows, n);
  return NULL;
}

// ---- AdamW -------------------------------------------------------------------------------------------------------

// m' = β₁m + (1−β₁)g; v' = β₂v + (1−β₂)g²; p' = p·decay − lr/bc1 · m' / (√v'/bc2Sqrt + ε)  (decay = 1 − lr·wd)
HOT static void adamw_step(const float *restrict p, const float *restrict m, const float *restrict v, const float *restrict g, float *restrict po, float *restrict mo, float *restrict vo, int64_t n, float lrOverBc1,
                           float b1, float b2, float eps, float decay, float bc2Sqrt) {
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float m1 = m[i] * b1 + gi * (1.0f - b1);
    const float m2 = v[i] * b2 + gi * gi * (1.0f - b2);
    mo[i] = m1;
    vo[i] = m2;
    po[i] = p[i] * decay - (m1 / (sqrtf(m2) / bc2Sqrt + eps)) * lrOverBc1;
  }
}

// adamw(heap, pOff, mOff, vOff, gOff, pOut, mOut, vOut, n, lrOverBc1, beta1, beta2, eps, decay, bc2Sqrt)
static napi_value adamw(napi_env env, napi_callback_info info) {
  uint8_t *heap; size_t L; double d[15];
  if (!args(env, info, 15, "adamw", &heap, &L, d)) return NULL;
  const double n = d[8];
  if (!whole(n)) THROW(env, "ablate_blas.adamw: bad size");
  for (int i = 1; i <= 7; i++)
    if (!inside(d[i], n, L)) THROW(env, "ablate_blas.adamw: operand outside the heap");
  adamw_step(F32(heap, d[1]), F32(heap, d[2]), F32(heap, d[3]), F32(heap, d[4]), F32(heap, d[5]), F32(heap, d[6]), F32(heap, d[7]), (int64_t)n, (float)d[9],
             (float)d[10], (float)d[11], (float)d[12], (float)d[13], (float)d[14]);
  return NULL;
}

// ---- registration (called from blas.c's module init) -------------------------------------------------------------

napi_status ablate_define_fused(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "transpose", NULL, transpose, NULL, NULL, NULL, napi_enumerable, NULL },
    { "gelu", NULL, gelu, NULL, NULL, NULL, napi_enumerable, NULL },
    { "geluGrad", NULL, gelu_grad, NULL, NULL, NULL, napi_enumerable, NULL },
    { "layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_enumerable, NULL },
    { "layerNormGrad", NULL, layer_norm_grad, NULL, NULL, NULL, napi_enumerable, NULL },
    { "softmax", NULL, softmax, NULL, NULL, NULL, napi_enumerable, NULL },
    { "softmaxGrad", NULL, softmax_grad, NULL, NULL, NULL, napi_enumerable, NULL },
    { "adamw", NULL, adamw, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
