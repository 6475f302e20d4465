// @ablate/blas: cblas_sgemm over tensors that live in the tfjs wasm backend's heap (a WebAssembly.Memory
// ArrayBuffer), read and written in place. One call does a whole (broadcast) batch plus the fused epilogue
// (bias, activation) of _FusedMatMul.
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define THROW(env, msg) do { napi_throw_error((env), NULL, (msg)); return NULL; } while (0)
#define CHECK(env, call) do { if ((call) != napi_ok) THROW((env), "ablate_blas: N-API call failed: " #call); } while (0)

enum { ACT_LINEAR = 0, ACT_RELU, ACT_RELU6, ACT_PRELU, ACT_LEAKYRELU, ACT_SIGMOID, ACT_ELU };

// The thread count asked for (setThreads), and the one OpenBLAS has now. Products smaller than SMALL_MACS run on one
// thread: waking the pool costs more than it saves there (sampling's one-token products, attention's per-head ones),
// and on a machine with as many cores as threads the woken threads take the core the JS thread needs next.
static int wanted_threads = 1, current_threads = 1;
#define SMALL_MACS (1 << 21)
static void use_threads(int n) {
  if (n != current_threads) { openblas_set_num_threads(n); current_threads = n; }
}

int ablate_threads(void) { return wanted_threads; } // fused.c splits its big kernels over as many threads

static int get_f64(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

// Reads an optional Int32Array argument (null/undefined -> NULL). Returns 0 on a type error.
static int get_i32s(napi_env env, napi_value v, const int32_t **data, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) { *data = NULL; *len = 0; return 1; }
  napi_typedarray_type tt; size_t n; void *p; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &tt, &n, &p, &ab, &off) != napi_ok || tt != napi_int32_array) return 0;
  *data = (const int32_t *)p; *len = n; return 1;
}

// matmul(heap, aOff, bOff, outOff, batch, m, n, k, transA, transB, aIdx, bIdx, aStride, bStride,
//        biasOff, biasLen, act, alpha, preluOff, preluLen)
// Offsets are byte offsets into heap (-1: none). aIdx/bIdx: Int32Array of the a/b matrix index for each output
// matrix, or null (then index = i * aStride / i * bStride, in matrices; stride 0 broadcasts one matrix).
static napi_value matmul(napi_env env, napi_callback_info info) {
  size_t argc = 20; napi_value argv[20];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 20) THROW(env, "ablate_blas.matmul: expected 20 arguments");
  void *heapData; size_t heapLen;
  if (napi_get_arraybuffer_info(env, argv[0], &heapData, &heapLen) != napi_ok) THROW(env, "ablate_blas.matmul: heap must be an ArrayBuffer");
  double d[20];
  for (int i = 1; i < 20; i++) {
    if (i == 8 || i == 9 || i == 10 || i == 11) continue;
    if (!get_f64(env, argv[i], &d[i])) THROW(env, "ablate_blas.matmul: expected a number");
  }
  bool ta = false, tb = false;
  CHECK(env, napi_get_value_bool(env, argv[8], &ta));
  CHECK(env, napi_get_value_bool(env, argv[9], &tb));
  const int32_t *aIdx, *bIdx; size_t aIdxLen, bIdxLen;
  if (!get_i32s(env, argv[10], &aIdx, &aIdxLen) || !get_i32s(env, argv[11], &bIdx, &bIdxLen)) THROW(env, "ablate_blas.matmul: aIdx/bIdx must be Int32Array or null");
  const double aOff = d[1], bOff = d[2], cOff = d[3];
  const int64_t batch = (int64_t)d[4], m = (int64_t)d[5], n = (int64_t)d[6], k = (int64_t)d[7];
  const int64_t aStride = (int64_t)d[12], bStride = (int64_t)d[13];
  const double biasOff = d[14]; const int64_t biasLen = (int64_t)d[15];
  const int act = (int)d[16]; const float alpha = (float)d[17];
  const double preluOff = d[18]; const int64_t preluLen = (int64_t)d[19];
  if (batch < 0 || m < 0 || n < 0 || k < 0) THROW(env, "ablate_blas.matmul: negative dimension");
  if ((aIdx && (int64_t)aIdxLen < batch) || (bIdx && (int64_t)bIdxLen < batch)) THROW(env, "ablate_blas.matmul: index array shorter than the batch");
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) THROW(env, "ablate_blas.matmul: dimension too large");

  // Bounds: every matrix we touch must lie inside the heap (a bad offset must not become a segfault).
  int64_t aMats = 0, bMats = 0;
  for (int64_t i = 0; i < batch; i++) {
    int64_t ai = aIdx ? aIdx[i] : i * aStride, bi = bIdx ? bIdx[i] : i * bStride;
    if (ai < 0 || bi < 0) THROW(env, "ablate_blas.matmul: negative matrix index");
    if (ai + 1 > aMats) aMats = ai + 1;
    if (bi + 1 > bMats) bMats = bi + 1;
  }
  const double L = (double)heapLen;
  if (aOff < 0 || aOff + 4.0 * aMats * m * k > L || bOff < 0 || bOff + 4.0 * bMats * k * n > L || cOff < 0 || cOff + 4.0 * batch * m * n > L)
    THROW(env, "ablate_blas.matmul: operand outside the heap");
  if (biasOff >= 0 && biasOff + 4.0 * biasLen > L) THROW(env, "ablate_blas.matmul: bias outside the heap");
  if (preluOff >= 0 && preluOff + 4.0 * preluLen > L) THROW(env, "ablate_blas.matmul: prelu weights outside the heap");
  if (biasOff >= 0 && biasLen != 1 && biasLen != n) THROW(env, "ablate_blas.matmul: bias must have 1 or n elements");
  if (act == ACT_PRELU && (preluOff < 0 || (preluLen != 1 && preluLen != n))) THROW(env, "ablate_blas.matmul: prelu weights must have 1 or n elements");

  uint8_t *heap = (uint8_t *)heapData;
  const float *A = (const float *)(heap + (size_t)aOff), *B = (const float *)(heap + (size_t)bOff);
  float *C = (float *)(heap + (size_t)cOff);
  const float *bias = biasOff >= 0 ? (const float *)(heap + (size_t)biasOff) : NULL;
  const float *pw = preluOff >= 0 ? (const float *)(heap + (size_t)preluOff) : NULL;
  const int M = (int)m, N = (int)n, K = (int)k;
  const int lda = ta ? M : K, ldb = tb ? K : N;
  const size_t aSize = (size_t)m * k, bSize = (size_t)k * n, cSize = (size_t)m * n;

  use_threads((double)m * n * k < SMALL_MACS ? 1 : wanted_threads);
  for (int64_t i = 0; i < batch; i++) {
    const int64_t ai = aIdx ? aIdx[i] : i * aStride, bi = bIdx ? bIdx[i] : i * bStride;
    float *Ci = C + (size_t)i * cSize;
    if (K == 0) { memset(Ci, 0, cSize * sizeof(float)); continue; }
    if (M == 0 || N == 0) continue;
    const float *Ai = A + (size_t)ai * aSize, *Bi = B + (size_t)bi * bSize;
    if (M == 1) {
      // y = op(B)ᵀ x: gemv is markedly faster than a 1-row gemm for the attention's decode-style products.
      cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, 1.0f, Bi, ldb, Ai, 1, 0.0f, Ci, 1); // a 1×K row (or K×1 column) is contiguous either way
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, Ai, lda, Bi, ldb, 0.0f, Ci, N);
    }
  }

  if (bias == NULL && act == ACT_LINEAR) return NULL;
  const size_t rows = (size_t)batch * m;
  for (size_t r = 0; r < rows; r++) {
    float *row = C + r * (size_t)n;
    if (bias) {
      if (biasLen == 1) { const float b0 = bias[0]; for (int j = 0; j < N; j++) row[j] += b0; }
      else for (int j = 0; j < N; j++) row[j] += bias[j];
    }
    switch (act) {
      case ACT_LINEAR: break;
      case ACT_RELU: for (int j = 0; j < N; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f; break;
      case ACT_RELU6: for (int j = 0; j < N; j++) row[j] = fminf(fmaxf(row[j], 0.0f), 6.0f); break;
      case ACT_PRELU: for (int j = 0; j < N; j++) { const float w = preluLen == 1 ? pw[0] : pw[j]; row[j] = row[j] < 0.0f ? w * row[j] : row[j]; } break;
      case ACT_LEAKYRELU: for (int j = 0; j < N; j++) row[j] = row[j] < 0.0f ? alpha * row[j] : row[j]; break;
      case ACT_SIGMOID: for (int j = 0; j < N; j++) row[j] = 1.0f / (1.0f + expf(-row[j])); break;
      case ACT_ELU: for (int j = 0; j < N; j++) row[j] = row[j] >= 0.0f ? row[j] : expm1f(row[j]); break;
      default: THROW(env, "ablate_blas.matmul: unknown activation code");
    }
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; double n;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !get_f64(env, argv[0], &n) || n < 1) THROW(env, "ablate_blas.setThreads: expected a positive integer");
  wanted_threads = (int)n;
  current_threads = -1;
  use_threads(wanted_threads);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info; napi_value out;
  CHECK(env, napi_create_int32(env, wanted_threads, &out));
  return out;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info; napi_value out;
  CHECK(env, napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

napi_status ablate_define_fused(napi_env env, napi_value exports); // fused.c

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "matmul", NULL, matmul, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getThreads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL },
    { "config", NULL, get_config, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (ablate_define_fused(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
