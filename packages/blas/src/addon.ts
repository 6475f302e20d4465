/** The addon's functions (native/blas.c, native/fused.c). */
export interface BlasAddon {
  matmul(
    heap: ArrayBuffer,
    aOff: number,
    bOff: number,
    outOff: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    aIdx: Int32Array | null,
    bIdx: Int32Array | null,
    aStride: number,
    bStride: number,
    biasOff: number,
    biasLen: number,
    act: number,
    alpha: number,
    preluOff: number,
    preluLen: number,
  ): void;
  /** fused.c: offsets are byte offsets into heap; see that file for each kernel's maths. */
  transpose(heap: ArrayBuffer, xOff: number, yOff: number, rank: number, ...shapeThenPerm: number[]): void;
  gelu(heap: ArrayBuffer, xOff: number, yOff: number, n: number): void;
  geluGrad(heap: ArrayBuffer, xOff: number, dyOff: number, dxOff: number, n: number): void;
  layerNorm(
    heap: ArrayBuffer,
    xOff: number,
    gammaOff: number,
    betaOff: number,
    yOff: number,
    xhatOff: number,
    rstdOff: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  layerNormGrad(
    heap: ArrayBuffer,
    dyOff: number,
    xhatOff: number,
    rstdOff: number,
    gammaOff: number,
    dxOff: number,
    dgOff: number,
    dbOff: number,
    rows: number,
    cols: number,
  ): void;
  softmax(heap: ArrayBuffer, sOff: number, maskOff: number, pOff: number, batch: number, rows: number, cols: number, scale: number): void;
  softmaxGrad(heap: ArrayBuffer, pOff: number, dpOff: number, dsOff: number, rows: number, cols: number, scale: number): void;
  adamw(
    heap: ArrayBuffer,
    pOff: number,
    mOff: number,
    vOff: number,
    gOff: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    lrOverBc1: number,
    beta1: number,
    beta2: number,
    eps: number,
    decay: number,
    bc2Sqrt: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}
