/**
 * Matrix products: `matmul`, `pointwiseConv2d` (a 1x1 convolution on NHWC images) and `linear`.
 * All three run the one register-tiled GEMM kernel (kernels/matmul.ts); their backward rules run it
 * again with transpose flags: for c = op(a) · op(b), dA and dB are GEMMs of dC with b and a.
 */
import { subgroupGemmKernel, type SubgroupGemmConfig } from '../../kernels/gemm-subgroup.js';
import { GEMM_TILE_M, GEMM_TILE_N, GEMM_TN12_TILE_N, gemmKernel, gemmNn4EpiKernel, gemmNn4Kernel, gemmTn4Kernel, transposeKernel } from '../../kernels/matmul.js';
import { epilogueConstants, epilogueTensors, type BnEpilogue } from './epilogue.js';
import { gemvKernel } from '../../kernels/gemv.js';
import { Activation, type ActivationName } from '../../kernels/activation.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel, runKernel1 } from '../kernel/run-kernel.js';
import { subgroupSize } from '../kernel/thread-target.js';
import { biasActGrad } from '../../kernels/linear-act.js';
import { pickWidth } from '../../kernels/vec.js';
import { activation } from './activation.js';
import { threadTarget } from '../kernel/thread-target.js';
import type { Tensor } from '../tensor/tensor.js';
import { sumSplits, sumTo } from './elementwise.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** `a` is stored [K, M] and used transposed. */
  transposeA?: boolean;
  /** `b` is stored [N, K] and used transposed. */
  transposeB?: boolean;
}

// Invocations worth launching before splitting K: enough workgroups for every core while keeping
// the partial sums (and the dispatch that adds them) few; 8192 on a GPU, 1024 on a CPU adapter
// (src/kernel/thread-target.ts; lavapipe, training: 64/32 steps 1.07x faster than with 8192, in
// CPU time 1.08x; 224/32 the same within noise; docs/benchmarks.md).
let targetOverride: number | null = null;

/** @internal Sets the lanes a GEMM aims for before splitting k (null: by adapter); returns the previous override. For tests and benchmarks. */
export function setGemmTargetThreads(n: number | null): number | null {
  const old = targetOverride;
  targetOverride = n;
  return old;
}

// Fewest k-steps one split takes: shorter chunks make the partial sums cost more than they save.
const MIN_CHUNK = 64;

const dims = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** Which GEMM kernels may run: `auto` uses the subgroup kernel where it pays, `plain` never (tests use both). */
export type GemmPath = 'auto' | 'plain';
let gemmPath: GemmPath = 'auto';

/** Chooses the GEMM kernels (`auto` by default); returns the previous choice. */
export function setGemmPath(path: GemmPath): GemmPath {
  const prev = gemmPath;
  gemmPath = path;
  return prev;
}

// Shortest reduction the subgroup kernel is used for: below it the plain 8x8 kernel measured as
// fast or faster on lavapipe (kernels/gemm-subgroup.ts). Bench (CPU time, same run, lavapipe):
// forward and input gradients at K >= 96 1.4-3.3x faster.
const SG_MIN_K = 64;
// Fewest rows of op(a) for which a product with op(b) = b^T transposes b and runs gemm_nn4: the
// transpose touches n*k values, the product m*n*k multiply-adds.
const NT_MIN_M = 256;
const SG_ROWS_PER_LANE = 2;

/** Column groups per subgroup tile: 2-4 vec4s, the fewest wasted columns (ties: more). */
function columnGroups(n: number): number {
  const nv = n / 4;
  let best = 4;
  for (const j of [4, 3, 2]) if (Math.ceil(nv / j) * j < Math.ceil(nv / best) * best) best = j;
  return best;
}

/**
 * Whether weight gradients with n columns run 8x12 tiles (gemm_tn4 with TN_GROUPS = 3): where it pads n to
 * at most 10 % more columns than the 8x8 tile does (n % 12 == 0, and 20, 44, 52, 68, 76, 88, ...).
 * Measured on lavapipe (CPU time, same process, equal splits) over MobileNetV3-Small's weight
 * gradients at batch 32: 1.05-1.16x at n = 24, 48, 72, 96, 120, 144, 240, 288, 576 and 88;
 * 0.93-0.95x at n = 40 (48 columns computed) and 0.82-0.9x at n = 16 (24).
 */
function tn12Pays(n: number): boolean {
  return Math.ceil(n / GEMM_TN12_TILE_N) * GEMM_TN12_TILE_N <= 1.1 * Math.ceil(n / GEMM_TILE_N) * GEMM_TILE_N;
}

// Multiply-adds below which a product is not split over k: the SE blocks' linears (batch x 576 x
// 144 and smaller) finish in well under a millisecond, and splitting them costs a second dispatch
// (same process, lavapipe: 1.1-1.9x faster unsplit at MobileNetV3-Small's SE shapes, batch 32).
const SMALL_PRODUCT = 1 << 22;

/** Splits of k giving about `target` lanes in all, chunks of at least MIN_CHUNK, a multiple of `step`. */
function splitK(k: number, lanes: number, step: number, macs = Infinity): { chunk: number; splits: number } {
  if (macs < SMALL_PRODUCT) return { chunk: Math.ceil(k / step) * step, splits: 1 };
  const want = Math.max(1, Math.min(Math.ceil(k / MIN_CHUNK), Math.ceil((targetOverride ?? threadTarget(8192)) / Math.max(1, lanes))));
  const chunk = Math.max(step, Math.ceil(Math.ceil(k / want) / step) * step);
  return { chunk, splits: Math.ceil(k / chunk) };
}

/**
 * out (shape `outShape`, m*n elements) = op(a) · op(b) (+ bias), with a, b, bias given by their
 * buffers only (any shapes with the right element counts: views cost nothing). No autograd.
 */
function gemm(a: Tensor, b: Tensor, m: number, k: number, n: number, transA: boolean, transB: boolean, outShape: readonly number[], bias?: Tensor, epi?: BnEpilogue, act: ActivationName = 'identity'): Tensor {
  if (gemvSuits(m, n, transA, transB) && !epi) return gemv(a, b, m, k, n, outShape, bias, act);
  // An activation at the store needs whole sums: one split (linearAct's products are small).
  const whole = !!epi || act !== 'identity';
  // Weight gradients (op(a) transposed, k = batch x pixels) measured slower on the subgroup kernel
  // (0.7-0.9x, split-K over very long k), so they stay on the plain one.
  const sg = gemmPath === 'auto' && !transA && k >= SG_MIN_K && n % 4 === 0 && k % 4 === 0 ? subgroupSize() : null;
  let kernel = gemmKernel;
  let tilesM: number;
  let tilesN: number;
  let split: { chunk: number; splits: number };
  let bT: Tensor | null = null;
  let constants: Record<string, number> | undefined;
  if (epi?.inputScale && !(sg && !transB && !bias)) throw new MobilegradError(`gemm: an input scale needs the subgroup kernel (k = ${k} >= ${SG_MIN_K}, k and n in fours, subgroups; see pointwiseInputScaleFuses)`);
  if (sg) {
    const cfg: SubgroupGemmConfig = { sg, tm: SG_ROWS_PER_LANE, j: columnGroups(n), transB, hasBias: !!bias, epilogue: !!epi, outAct: act !== 'identity' };
    if (epi?.inputScale) cfg.scaleB = true;
    kernel = subgroupGemmKernel(cfg);
    tilesM = Math.ceil(m / (sg * cfg.tm));
    tilesN = Math.ceil(n / (4 * cfg.j));
    split = whole ? { chunk: Math.ceil(k / sg) * sg, splits: 1 } : splitK(k, tilesM * tilesN * sg, sg, m * n * k);
    if (act !== 'identity') constants = { OUT_ACT: Activation[act] };
  } else if (epi) {
    if (transA || transB || bias || n % 4 !== 0) throw new MobilegradError(`gemm: the fused epilogue needs a plain product with columns in fours (n = ${n})`);
    kernel = gemmNn4EpiKernel;
    tilesM = Math.ceil(m / GEMM_TILE_M);
    tilesN = Math.ceil(n / GEMM_TILE_N);
    split = { chunk: k, splits: 1 };
  } else {
    tilesM = Math.ceil(m / GEMM_TILE_M);
    tilesN = Math.ceil(n / GEMM_TILE_N);
    const tn4 = transA && !transB && !bias && act === 'identity' && m % 4 === 0 && n % 4 === 0;
    // Split K when the output alone gives too few invocations (weight gradients: k = batch * pixels).
    // Counted in 8x8 tiles for both weight-gradient kernels, so the 8x12 one gets as many splits.
    split = whole ? { chunk: k, splits: 1 } : splitK(k, tilesM * tilesN, 1, m * n * k);
    // Weight gradients with rows of 4: the vec4-load variant (1.0-1.9x the scalar one, CPU time),
    // with an 8x12 tile where n suits it (tn12Pays).
    if (tn4) {
      kernel = gemmTn4Kernel;
      if (tn12Pays(n)) {
        constants = { TN_GROUPS: 3 };
        tilesN = Math.ceil(n / GEMM_TN12_TILE_N);
      }
    }
    // b transposed (input gradients below SG_MIN_K, or no subgroups): transpose b once, then b as
    // vec4 along n (MobileNetV3-Small's dX at K = 16-48: 1.09-1.14x CPU time with the transpose).
    else if (!transA && transB && !bias && act === 'identity' && n % 4 === 0 && m >= NT_MIN_M) {
      bT = runKernel1(transposeKernel, { tr_src: b }, { shape: [k, n] }, { rows: n, cols: k });
      kernel = gemmNn4Kernel;
    }
    // Other products with columns of 4: b as vec4 (1.1-1.3x).
    else if (!transA && !transB && !bias && act === 'identity' && n % 4 === 0) kernel = gemmNn4Kernel;
    else constants = { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0, HAS_BIAS: bias ? 1 : 0, OUT_ACT: Activation[act] };
  }
  const { chunk, splits } = split;
  const uniforms = { m, n, k, chunk, tiles_m: tilesM, tiles_n: tilesN, splits };
  // Without a bias the plain kernel's binding still needs a buffer; `a` stands in and is never read through it.
  let inputs: Record<string, Tensor> =
    kernel === gemmTn4Kernel ? { ta: a, tb: b } : kernel === gemmNn4Kernel || kernel === gemmNn4EpiKernel ? { na: a, nb: bT ?? b } : sg && !bias ? { a, b } : { a, b, bias: bias ?? a };
  if (epi) {
    inputs = { ...inputs, ...epilogueTensors(epi), ...(epi.inputScale ? { bscale: epi.inputScale } : {}) };
    constants = { ...constants, ...epilogueConstants(epi) };
  }
  const opts = constants ? { constants } : {};
  const part = runKernel1(kernel, inputs, { shape: splits === 1 ? outShape : [splits, m * n] }, uniforms, opts);
  bT?.release();
  return sumSplits(part, splits, outShape);
}

// Rows up to which a product with b [k, n] runs gemv (one row per invocation) instead of the
// 8-row tiles. Measured on lavapipe: see docs/benchmarks.md.
let GEMV_MAX_ROWS = 4;

/** @internal Sets the most rows a product runs through gemv (0: never); returns the previous value. For benchmarks. */
export function setGemvMaxRows(rows: number): number {
  const old = GEMV_MAX_ROWS;
  GEMV_MAX_ROWS = rows;
  return old;
}

function gemvSuits(m: number, n: number, transA: boolean, transB: boolean): boolean {
  return gemmPath === 'auto' && m <= GEMV_MAX_ROWS && !transA && !transB && n % 4 === 0;
}

/** y = act(a · b + bias) through the gemv kernel (a [m, k], b [k, n], n % 4 == 0). No autograd. */
function gemv(a: Tensor, b: Tensor, m: number, k: number, n: number, outShape: readonly number[], bias: Tensor | undefined, act: ActivationName): Tensor {
  return runKernel1(gemvKernel, { gv_x: a, gv_w: b, gv_bias: bias ?? b }, { shape: outShape }, { m, n4: n / 4, k }, {
    constants: { HAS_BIAS: bias ? 1 : 0, KIND: Activation[act] },
  });
}

/**
 * Gradients of c = op(a) · op(b) given dC (m x n): [dA, dB] in a's and b's stored layouts, each
 * only where `needA` / `needB`.
 */
function gemmGrads(g: Tensor, a: Tensor, b: Tensor, m: number, k: number, n: number, tA: boolean, tB: boolean, needA: boolean, needB: boolean): [Tensor | null, Tensor | null] {
  // dop(a) = dC · op(b)^T (m x k); stored transposed (k x m) when tA, which is op(b) · dC^T.
  const da = !needA ? null : tA ? gemm(b, g, k, n, m, tB, true, a.shape) : gemm(g, b, m, n, k, false, !tB, a.shape);
  // dop(b) = op(a)^T · dC (k x n); stored transposed (n x k) when tB, which is dC^T · op(a).
  const db = !needB ? null : tB ? gemm(g, a, n, m, k, true, tA, b.shape) : gemm(a, g, k, m, n, !tA, false, b.shape);
  return [da, db];
}

/**
 * Matrix product with autograd: a [M, K] (or [K, M] with `transposeA`) times b [K, N]
 * (or [N, K] with `transposeB`) gives [M, N]. Row-major f32.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const tA = options.transposeA ?? false;
  const tB = options.transposeB ?? false;
  const what = () => `matmul: a ${dims(a)}${tA ? ' (transposed)' : ''} and b ${dims(b)}${tB ? ' (transposed)' : ''}`;
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new MobilegradError(`${what()}: both operands must be 2-D`);
  const [m, k] = tA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = tB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== kb) throw new MobilegradError(`${what()}: inner dimensions differ (${k} and ${kb})`);
  const y = gemm(a, b, m, k, n, tA, tB, [m, n]);
  return attach(y, 'matmul', [a, b], (g) => gemmGrads(g, a, b, m, k, n, tA, tB, a.requiresGrad, b.requiresGrad));
}

/**
 * 1x1 convolution (stride 1, no padding) on NHWC images, with autograd: x [N, H, W, Cin] and
 * w [Cin, Cout] give [N, H, W, Cout], the product of x viewed as [N*H*W, Cin] with w.
 */
export function pointwiseConv2d(x: Tensor, w: Tensor): Tensor {
  if (x.shape.length !== 4 || w.shape.length !== 2 || x.shape[3] !== w.shape[0]) {
    throw new MobilegradError(`pointwiseConv2d: x ${dims(x)} must be NHWC [N, H, W, Cin] and w ${dims(w)} [Cin, Cout] with the same Cin`);
  }
  const [nb, h, wd, cin] = x.shape as [number, number, number, number];
  const cout = w.shape[1]!;
  const p = nb * h * wd;
  const y = gemm(x, w, p, cin, cout, false, false, [nb, h, wd, cout]);
  return attach(y, 'pointwiseConv2d', [x, w], (g) => gemmGrads(g, x, w, p, cin, cout, false, false, x.requiresGrad, w.requiresGrad));
}

/**
 * Whether {@link pointwiseConv2dEpilogue} can take a per-channel input scale (BnEpilogue.inputScale)
 * for x [1, H, W, Cin] and w [Cin, Cout]: one image, so the scale folds into the weights' rows as
 * the subgroup GEMM loads them (kernels/gemm-subgroup.ts, scaleB).
 */
export function pointwiseInputScaleFuses(x: Tensor, w: Tensor): boolean {
  const k = w.shape[0]!;
  const n = w.shape[1]!;
  return x.shape.length === 4 && x.shape[0] === 1 && gemmPath === 'auto' && k >= SG_MIN_K && k % 4 === 0 && n % 4 === 0 && subgroupSize() !== null;
}

/**
 * The forward of {@link pointwiseConv2d} with the fused inference epilogue: BatchNorm with running
 * statistics, activation and residual applied as the GEMM stores (src/ops/conv-bn-act.ts). No
 * autograd; Cout % 4 == 0.
 */
export function pointwiseConv2dEpilogue(x: Tensor, w: Tensor, epi: BnEpilogue): Tensor {
  if (epi.inputScale && !pointwiseInputScaleFuses(x, w)) throw new MobilegradError(`pointwiseConv2dEpilogue: an input scale is fused only for a batch-1 input on the subgroup kernel (x [${x.shape.join(', ')}], w [${w.shape.join(', ')}])`);
  const [nb, h, wd, cin] = x.shape as [number, number, number, number];
  const cout = w.shape[1]!;
  return gemm(x, w, nb * h * wd, cin, cout, false, false, [nb, h, wd, cout], undefined, epi);
}

/**
 * Fully connected layer with autograd: x [..., in] times w [in, out] plus b [out] gives
 * [..., out] (leading dimensions are batch; usually x is [N, in]). The bias is added in the
 * GEMM's epilogue.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const inF = x.shape[x.shape.length - 1];
  if (x.shape.length < 2 || w.shape.length !== 2 || inF !== w.shape[0] || (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[1]))) {
    throw new MobilegradError(`linear: x ${dims(x)} must be [N, in], w ${dims(w)} [in, out]${b ? ` and b ${dims(b)} [out]` : ''} with matching sizes`);
  }
  const outF = w.shape[1]!;
  const rows = x.shape.slice(0, -1).reduce((q, d) => q * d, 1);
  const shape = [...x.shape.slice(0, -1), outF];
  const y = gemm(x, w, rows, inF!, outF, false, false, shape, b);
  const inputs = b ? [x, w, b] : [x, w];
  return attach(y, 'linear', inputs, (g) => {
    const [dx, dw] = gemmGrads(g, x, w, rows, inF!, outF, false, false, x.requiresGrad, w.requiresGrad);
    if (!b) return [dx, dw];
    let db: Tensor | null = null;
    if (b.requiresGrad) {
      const g2 = g.view([rows, outF]);
      db = sumTo(g2, [outF]);
      g2.release();
    }
    return [dx, dw, db];
  });
}

/** Activations whose derivative {@link linearAct}'s backward reads off the output. */
const FROM_OUTPUT: readonly ActivationName[] = ['relu', 'relu6', 'hsigmoid', 'identity'];
// Most rows linearAct fuses: its backward pass walks every row in one thread per column (a batch
// of vectors, as the SE blocks'); more rows (a linear over pixels) take the separate ops.
const LINEAR_ACT_MAX_ROWS = 1024;

/**
 * act(linear(x, w, b)) with autograd in fewer passes (the SE blocks' fc + ReLU and fc +
 * h-sigmoid): the activation is applied as the GEMM stores (one split), and the backward computes
 * act'(y) * g and the bias gradient in one pass (kernels/linear-act.ts) before the two GEMMs.
 * For activations whose derivative follows from the output (relu, relu6, hsigmoid, identity) and
 * up to 1024 rows; otherwise linear then the activation op. Same shapes as {@link linear}.
 */
export function linearAct(x: Tensor, w: Tensor, b: Tensor | undefined, act: ActivationName): Tensor {
  const inF = x.shape[x.shape.length - 1];
  if (!FROM_OUTPUT.includes(act) || x.size / (inF ?? 1) > LINEAR_ACT_MAX_ROWS) return activation(linear(x, w, b), act);
  if (x.shape.length < 2 || w.shape.length !== 2 || inF !== w.shape[0] || (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[1]))) {
    throw new MobilegradError(`linearAct: x ${dims(x)} must be [N, in], w ${dims(w)} [in, out]${b ? ` and b ${dims(b)} [out]` : ''} with matching sizes`);
  }
  const outF = w.shape[1]!;
  const rows = x.shape.slice(0, -1).reduce((q, d) => q * d, 1);
  const y = gemm(x, w, rows, inF!, outF, false, false, [...x.shape.slice(0, -1), outF], b, undefined, act);
  return attach(y, 'linearAct', b ? [x, w, b] : [x, w], (g) => {
    const { kernel, w: width } = pickWidth(biasActGrad, outF);
    const out = runKernel(kernel, { la_g: g, la_y: y }, { la_dz: { shape: [rows, outF] }, la_db: { shape: [outF] } }, { rows, nv: outF / width }, {
      constants: { KIND: Activation[act] },
    });
    const dz = out.la_dz!;
    const [dx, dw] = gemmGrads(dz, x, w, rows, inF!, outF, false, false, x.requiresGrad, w.requiresGrad);
    dz.release();
    if (!b?.requiresGrad) out.la_db!.release();
    return b ? [dx, dw, b.requiresGrad ? out.la_db! : null] : [dx, dw];
  });
}
