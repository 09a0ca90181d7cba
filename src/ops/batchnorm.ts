/** Batch normalisation over the channel (last) axis: forward kernels and backward rule side by side. */
import { Activation, type ActivationName } from '../../kernels/activation.js';
import {
  bnApply, bnBackwardDx, bnBackwardFinal, bnBackwardPartial, bnEvalStats, bnSerialBackward, bnSerialForward, bnSlicedBackward, bnSlicedForward, bnSmallBackward, bnSmallForward,
  bnSmallGroups, bnStatsFinal, bnStatsPartial,
} from '../../kernels/batchnorm.js';
import { pickWidth, type VecKernel } from '../../kernels/vec.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel, runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { isCpuAdapter, subgroupSize, threadTarget } from '../kernel/thread-target.js';

/** Running statistics of a batch-norm layer, [C] each, updated in place in training mode. */
export interface RunningStats {
  mean: Tensor;
  var: Tensor;
}

export interface BatchNormOptions {
  /** Normalise with the batch statistics and update the running ones (true), or use the running ones (false). */
  training: boolean;
  /** Weight of the batch statistics in the running update (PyTorch convention; default 0.01). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-3). */
  eps?: number;
  /** Activation applied after the affine map, fused into the same kernels (default none). */
  activation?: ActivationName;
}

/**
 * Rows per split for the two-stage channel reductions, for rows of `cv` elements: about 4096
 * threads on a GPU, an eighth on a CPU adapter (src/kernel/thread-target.ts; one per split and
 * channel group), chunks of at least 64 rows. The second stage merges
 * the splits serially, so they stay few.
 */
function splitRows(m: number, cv: number): { splits: number; chunk: number } {
  const want = Math.max(1, Math.min(Math.ceil(m / 64), Math.ceil(threadTarget(4096) / cv)));
  const chunk = Math.ceil(m / want);
  return { splits: Math.ceil(m / chunk), chunk };
}

/** Rows per thread for the elementwise passes (apply, dx): about 16384 threads (GPU; an eighth on a CPU adapter), at least 4 rows each. */
function rowBlocks(m: number, cv: number): { rows: number; blocks: number } {
  const rows = Math.max(4, Math.ceil((m * cv) / threadTarget(16384)));
  return { rows, blocks: Math.ceil(m / rows) };
}

/**
 * On GPUs training uses the one-dispatch kernels with workgroup reductions (bn_small_forward /
 * bn_small_backward) when each thread walks at most this many rows (M / (64 / GC)); above it the
 * two-stage passes spread the rows over more threads. (Chosen on lavapipe before the serial
 * kernels below replaced them on CPU adapters: 512 first, then 128, docs/benchmarks.md.)
 */
let smallRowsPerThread = 128;

/** @internal Sets the rows-per-thread limit of the workgroup one-dispatch kernels (GPUs; 0: never use them); returns the previous one. For benchmarks. */
export function setBatchNormSmallRows(rows: number): number {
  const old = smallRowsPerThread;
  smallRowsPerThread = rows;
  return old;
}

/**
 * On CPU adapters training uses the serial kernels (bn_serial_forward / bn_serial_backward: one
 * thread per channel group walks every row, no workgroup barrier) up to this many rows, the
 * two-stage passes above. A barrier makes a CPU driver run the shader as coroutines, which cost
 * the one-dispatch kernels most of their time there. Measured on lavapipe (in-process alternation,
 * forward + backward, two runs, docs/benchmarks.md): 1.03-1.57x faster than the kernels used
 * before at every MobileNetV3-Small shape of batch 32 at 64 px, 1.08-1.84x at the 14x14 and 7x7
 * layers at 224 px, 1.18-1.33x at 8192 rows x 16 channels; 0.84-1.09x at 25088 and 100352 rows.
 */
const SERIAL_MAX_ROWS = 8192;

/** Which training BatchNorm kernels run: by size and adapter (`auto`), or one kind forced (tests, benchmarks). */
export type BatchNormPath = 'auto' | 'two-stage' | 'workgroup' | 'serial';
let bnPath: BatchNormPath = 'auto';

/** @internal Forces training BatchNorm's kernels (`auto`: by size and adapter); returns the previous setting. For tests and benchmarks. */
export function setBatchNormPath(path: BatchNormPath): BatchNormPath {
  const old = bnPath;
  bnPath = path;
  return old;
}

/** The training kernels for m rows of cv channel groups (two-stage passes, one dispatch with workgroup reductions, or serial). */
function trainingPath(m: number, cv: number): Exclude<BatchNormPath, 'auto'> {
  if (bnPath !== 'auto') return bnPath;
  if (isCpuAdapter()) return m <= SERIAL_MAX_ROWS ? 'serial' : 'two-stage';
  return m <= smallRowsPerThread * (64 / bnSmallGroups(cv)) ? 'workgroup' : 'two-stage';
}

// The sliced serial kernels run where few channel groups leave most lanes idle: at most
// SLICE_MAX_CV groups, with slices of at least MIN_SLICE_ROWS rows. Measured on lavapipe against
// the plain serial kernels (forward + backward, batch 32, alternated rounds; docs/benchmarks.md):
// 4 lanes per group 1.2-1.7x at 16 channels (16x16, 64 px) and 0.99-1.26x at 40 (14x14, 224 px);
// 8x8x24 and 4x4x40 within the noise; from 24 channel groups up (7x7x96) 0.76-1.18x across runs.
const SLICE_MAX_CV = 12;
const SLICE_RS = 4;
const MIN_SLICE_ROWS = 256;
let slicesOverride: number | null = null;

/** @internal Forces the serial kernels' lanes per channel group (1: the plain serial kernels; null: by size); returns the previous setting. For tests and benchmarks. */
export function setBatchNormSlices(rs: number | null): number | null {
  const old = slicesOverride;
  slicesOverride = rs;
  return old;
}

/**
 * Lanes per channel group (RS) for the serial kernels and their workgroup (the subgroup size), or
 * null for the plain serial kernels: no fixed subgroup size, many channel groups, or short slices.
 */
function serialSlices(m: number, cv: number): { rs: number; wg: number } | null {
  const sg = subgroupSize();
  if (!sg) return null;
  const most = Math.min(sg, 8);
  const rs = slicesOverride !== null ? Math.min(slicesOverride, most) : cv <= SLICE_MAX_CV && m / SLICE_RS >= MIN_SLICE_ROWS ? Math.min(SLICE_RS, most) : 1;
  return rs > 1 ? { rs, wg: sg } : null;
}

function describe(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Batch normalisation of a channels-last tensor `x` ([N, H, W, C], [N, C] or any [..., C]):
 * y = act((x - mean) / sqrt(var + eps) * gamma + beta), per channel.
 *
 * In training mode mean and (biased) variance are the batch's, over all M = size / C rows, and
 * `running` is updated in place on the GPU as running = (1 - momentum) * running + momentum * batch,
 * with the unbiased batch variance (M / (M - 1)), as PyTorch. That update records no graph node.
 * In eval mode the running statistics are used and left unchanged.
 * Gradients flow to `x`, `gamma` and `beta` in both modes.
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, running: RunningStats, options: BatchNormOptions): Tensor {
  const { training, momentum = 0.01, eps = 1e-3 } = options;
  const kind = Activation[options.activation ?? 'identity'];
  if (kind === undefined) throw new MobilegradError(`batchNorm: unknown activation '${options.activation}'`);
  if (x.shape.length < 2) throw new MobilegradError(`batchNorm: x must be [..., C] with at least 2 dimensions, got ${describe(x)}`);
  const c = x.shape[x.shape.length - 1]!;
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['running.mean', running.mean], ['running.var', running.var]] as const) {
    if (t.shape.length !== 1 || t.shape[0] !== c) throw new MobilegradError(`batchNorm: ${name} must be [${c}] for x ${describe(x)}, got ${describe(t)}`);
  }
  for (const t of [x, gamma, beta, running.mean, running.var]) {
    if (t.dtype !== 'f32') throw new MobilegradError(`batchNorm: tensors must be f32, got ${t.dtype} ${describe(t)}`);
  }
  const m = x.size / c;
  if (training && m < 2) throw new MobilegradError(`batchNorm: training needs more than one value per channel, x is ${describe(x)}`);

  // vec4 kernels when whole rows are vec4-aligned; scalar ones otherwise (kernels/vec.ts).
  const { kernel: kPart, w } = pickWidth(bnStatsPartial, c);
  const cv = c / w;
  const pick = (k: VecKernel) => (w === 4 ? k.v4 : k.v1);
  const actConst = { KIND: kind };

  let stats: Tensor | undefined;
  const gc = bnSmallGroups(cv);
  const path = training ? trainingPath(m, cv) : 'two-stage';
  const small = path !== 'two-stage';
  const serial = path === 'serial';
  let yFused: Tensor | undefined;
  // The serial kernels with row slices over subgroup lanes, where the adapter has subgroups.
  const sliced = serial ? serialSlices(m, cv) : null;
  const serialKernels = (plain: VecKernel, withSlices: VecKernel) => ({ kernel: pick(sliced ? withSlices : plain), constants: sliced ? { ...actConst, RS: sliced.rs, WG: sliced.wg } : actConst });
  if (small) {
    const sk = serial ? serialKernels(bnSerialForward, bnSlicedForward) : { kernel: pick(bnSmallForward), constants: { ...actConst, GC: gc } };
    const out = runKernel(sk.kernel, { nf_x: x, nf_gamma: gamma, nf_beta: beta, nf_run_mean: running.mean, nf_run_var: running.var }, {
      nf_y: { shape: x.shape }, nf_stats: { shape: [2, c] },
    }, { m, cv, eps, momentum }, { constants: sk.constants });
    yFused = out.nf_y!;
    stats = out.nf_stats!;
  } else if (training) {
    const { splits, chunk } = splitRows(m, cv);
    const part = runKernel1(kPart, { sx: x }, { shape: [splits, 2, c] }, { m, cv, splits, chunk });
    stats = runKernel1(pick(bnStatsFinal), { fpart: part, run_mean: running.mean, run_var: running.var }, { shape: [2, c] }, {
      m, cv, splits, chunk, eps, momentum,
    });
    part.release();
  }
  // Evaluation normalises with the running statistics read by the apply kernel itself; the
  // [mean; invstd] tensor the backward needs is made only if a backward runs (fine-tuning).
  const evalStats = () => runKernel1(pick(bnEvalStats), { rm_in: running.mean, rv_in: running.var }, { shape: [2, c] }, { cv, eps });
  const blocks = rowBlocks(m, cv);
  const y = yFused ?? (training
    ? runKernel1(pick(bnApply), { ax: x, astats: stats!, agamma: gamma, abeta: beta, arv: stats! }, { shape: x.shape }, { m, cv, ...blocks, eps }, { constants: actConst })
    : runKernel1(pick(bnApply), { ax: x, astats: running.mean, agamma: gamma, abeta: beta, arv: running.var }, { shape: x.shape }, { m, cv, ...blocks, eps }, {
        constants: { ...actConst, FROM_RUNNING: 1 },
      }));

  attach(y, 'batchNorm', [x, gamma, beta], (g) => {
    stats ??= evalStats();
    // Training needs the sums for dx too; eval needs them only for gamma and beta.
    const wantAffine = gamma.requiresGrad || beta.requiresGrad;
    if (small && x.requiresGrad) {
      const sk = serial ? serialKernels(bnSerialBackward, bnSlicedBackward) : { kernel: pick(bnSmallBackward), constants: { ...actConst, GC: gc } };
      const out = runKernel(sk.kernel, { nb_x: x, nb_dy: g, nb_stats: stats, nb_gamma: gamma, nb_beta: beta }, {
        nb_dx: { shape: x.shape }, nb_dbeta: { shape: [c] }, nb_dgamma: { shape: [c] },
      }, { m, cv }, { constants: sk.constants });
      stats.release();
      if (!beta.requiresGrad) out.nb_dbeta!.release();
      if (!gamma.requiresGrad) out.nb_dgamma!.release();
      return [out.nb_dx!, gamma.requiresGrad ? out.nb_dgamma! : null, beta.requiresGrad ? out.nb_dbeta! : null];
    }
    let dbeta: Tensor | null = null;
    let dgamma: Tensor | null = null;
    if (training || wantAffine) {
      const { splits, chunk } = splitRows(m, cv);
      const part = runKernel1(pick(bnBackwardPartial), { bx: x, bdy: g, bstats: stats, bgamma: gamma, bbeta: beta }, { shape: [splits, 2, c] }, {
        m, cv, splits, chunk,
      }, { constants: actConst });
      const sums = runKernel(pick(bnBackwardFinal), { qpart: part }, { dbeta: { shape: [c] }, dgamma: { shape: [c] } }, { cv, splits });
      part.release();
      dbeta = sums.dbeta!;
      dgamma = sums.dgamma!;
    }
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = runKernel1(pick(bnBackwardDx), {
        dx_x: x, dx_dy: g, dx_stats: stats, dx_gamma: gamma, dx_beta: beta,
        // Unread in eval mode; any [>= C] buffer satisfies the binding.
        dsum_b: dbeta ?? stats, dsum_g: dgamma ?? stats,
      }, { shape: x.shape }, { m, cv, ...blocks }, { constants: { ...actConst, TRAINING: training ? 1 : 0 } });
    }
    stats.release();
    if (!beta.requiresGrad) dbeta?.release();
    if (!gamma.requiresGrad) dgamma?.release();
    return [dx, gamma.requiresGrad ? dgamma : null, beta.requiresGrad ? dbeta : null];
  });
  // No graph node (noGrad, or nothing needs a gradient): the statistics are not needed any more.
  if (!y.gradFn) stats?.release();
  return y;
}
