/**
 * Batch normalisation: two-stage channel statistics, normalisation with a fused activation, backward.
 * Every kernel comes at two widths (kernels/vec.ts): vec4 over channels when C % 4 == 0, scalar
 * otherwise. Uniform `cv` is C in elements of that width. Override constants: `KIND` (activation)
 * for apply / backward, `TRAINING` for the input gradient.
 */
import bnSource from '../shaders/batchnorm.wgsl';
import slicedSource from '../shaders/batchnorm-serial-sg.wgsl';
import { activationWgsl } from './activation.js';
import { grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

const source = bnSource + activationWgsl('act', 'V', 'KIND');

/** Stage 1 of the statistics: chunk means and centred sums of squares, part [splits, 2, C]. */
export const bnStatsPartial = defineVecKernel({
  name: 'bn_stats_partial',
  source,
  entry: 'stats_partial',
  inputs: ['sx'],
  outputs: ['spart'],
  uniforms: ['m', 'cv', 'splits', 'chunk'],
  workgroups: (u) => grid1d(u.splits! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: 3 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (u.m! + 2 * u.splits!) }),
});

/** Stage 2: batch mean and 1/std into stats [2, C]; updates the running statistics in place. */
export const bnStatsFinal = defineVecKernel({
  name: 'bn_stats_final',
  source,
  entry: 'stats_final',
  inputs: ['fpart'],
  outputs: ['fstats'],
  inouts: ['run_mean', 'run_var'],
  uniforms: ['m', 'cv', 'splits', 'chunk', 'eps', 'momentum'],
  workgroups: (u) => grid1d(u.cv!, 64),
});

/** Evaluation statistics [2, C] from the running mean and variance. */
export const bnEvalStats = defineVecKernel({
  name: 'bn_eval_stats',
  source,
  entry: 'eval_stats',
  inputs: ['rm_in', 'rv_in'],
  outputs: ['estats'],
  uniforms: ['cv', 'eps'],
  workgroups: (u) => grid1d(u.cv!, 64),
});

/**
 * y = act((x - mean) * invstd * gamma + beta); one thread per (block of `rows` rows, channel
 * group). Override FROM_RUNNING: astats is the running mean and arv the running variance (eval);
 * otherwise astats is [mean; invstd] and arv any bound buffer.
 */
export const bnApply = defineVecKernel({
  name: 'bn_apply',
  source,
  entry: 'apply',
  inputs: ['ax', 'astats', 'agamma', 'abeta', 'arv'],
  outputs: ['ay'],
  uniforms: ['m', 'cv', 'rows', 'blocks', 'eps'],
  workgroups: (u) => grid1d(u.blocks! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: 4 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (2 * u.m! + 4) }),
});

/** Backward stage 1: per-split sums of dz and dz * xhat, part [splits, 2, C]. */
export const bnBackwardPartial = defineVecKernel({
  name: 'bn_backward_partial',
  source,
  entry: 'backward_partial',
  inputs: ['bx', 'bdy', 'bstats', 'bgamma', 'bbeta'],
  outputs: ['bpart'],
  uniforms: ['m', 'cv', 'splits', 'chunk'],
  workgroups: (u) => grid1d(u.splits! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: 6 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (2 * u.m! + 4 + 2 * u.splits!) }),
});

/** Backward stage 2: dbeta and dgamma [C]. */
export const bnBackwardFinal = defineVecKernel({
  name: 'bn_backward_final',
  source,
  entry: 'backward_final',
  inputs: ['qpart'],
  outputs: ['dbeta', 'dgamma'],
  uniforms: ['cv', 'splits'],
  workgroups: (u) => grid1d(u.cv!, 64),
});

/** Input gradient, with batch statistics (TRAINING) or constant ones; one thread per (row block, channel group). */
export const bnBackwardDx = defineVecKernel({
  name: 'bn_backward_dx',
  source,
  entry: 'backward_dx',
  inputs: ['dx_x', 'dx_dy', 'dx_stats', 'dx_gamma', 'dx_beta', 'dsum_b', 'dsum_g'],
  outputs: ['dx_out'],
  uniforms: ['m', 'cv', 'rows', 'blocks'],
  workgroups: (u) => grid1d(u.blocks! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: 6 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (3 * u.m! + 6) }),
});

/**
 * Channel groups per workgroup (override GC) of the one-dispatch kernels for rows of `cv`
 * elements: fewer where there are few channels, so that several workgroups share the work.
 */
export function bnSmallGroups(cv: number): number {
  return cv >= 64 ? 8 : cv >= 32 ? 4 : cv >= 16 ? 2 : 1;
}

const smallGroups = (u: Record<string, number | undefined>) => grid1d(Math.ceil(u.cv! / bnSmallGroups(u.cv!)) * 64, 64);

// The one-dispatch training kernels come in two forms with the same bindings (src/ops/batchnorm.ts
// picks): workgroup reductions over row slices (GPUs) and one thread per channel group walking
// every row with no barrier (CPU adapters, where a barrier runs the shader as coroutines).
const smallForward = {
  source,
  inputs: ['nf_x', 'nf_gamma', 'nf_beta'],
  outputs: ['nf_y', 'nf_stats'],
  inouts: ['nf_run_mean', 'nf_run_var'],
  uniforms: ['m', 'cv', 'eps', 'momentum'],
  cost: (u: Record<string, number | undefined>, _c: unknown, w: number) => ({ flops: 7 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (2 * u.m! + 8) }),
};
const smallBackward = {
  source,
  inputs: ['nb_x', 'nb_dy', 'nb_stats', 'nb_gamma', 'nb_beta'],
  outputs: ['nb_dx', 'nb_dbeta', 'nb_dgamma'],
  uniforms: ['m', 'cv'],
  cost: (u: Record<string, number | undefined>, _c: unknown, w: number) => ({ flops: 12 * u.m! * u.cv! * w, bytes: 4 * w * u.cv! * (3 * u.m! + 6) }),
};
const serialGroups = (u: Record<string, number | undefined>) => grid1d(u.cv!, 8);

/**
 * Training forward in one dispatch for small M: batch mean and variance, running update, stats
 * [2, C] (mean; invstd) and y = act(xhat * gamma + beta). Override GC (1, 2, 4, 8) channel groups
 * per workgroup, 64 / GC row slices.
 */
export const bnSmallForward = defineVecKernel({ ...smallForward, name: 'bn_small_forward', entry: 'small_forward', workgroups: smallGroups });

/** Training backward in one dispatch for small M: dbeta, dgamma [C] and dx. Override GC as the forward. */
export const bnSmallBackward = defineVecKernel({ ...smallBackward, name: 'bn_small_backward', entry: 'small_backward', workgroups: smallGroups });

/** bn_small_forward without barriers: one thread per channel group walks every row (CPU adapters). */
export const bnSerialForward = defineVecKernel({ ...smallForward, name: 'bn_serial_forward', entry: 'serial_forward', workgroups: serialGroups });

/** bn_small_backward without barriers: one thread per channel group walks every row (CPU adapters). */
export const bnSerialBackward = defineVecKernel({ ...smallBackward, name: 'bn_serial_backward', entry: 'serial_backward', workgroups: serialGroups });

/**
 * bn_serial_forward / bn_serial_backward with RS lanes per channel group, each over a slice of the
 * rows, summed by subgroup shuffles (shaders/batchnorm-serial-sg.wgsl; adapters with `subgroups`).
 * Override constants RS (lanes per group, a power of two up to WG) and WG (the workgroup: the
 * adapter's subgroup size).
 */
const slicedGroups = (u: Record<string, number | undefined>, c: Readonly<Record<string, number>>) => grid1d(u.cv! * c.RS!, c.WG!);
export const bnSlicedForward = defineVecKernel({ ...smallForward, source: source + slicedSource, enable: 'subgroups', name: 'bn_sliced_forward', entry: 'serial_forward_sliced', workgroups: slicedGroups });
export const bnSlicedBackward = defineVecKernel({ ...smallBackward, source: source + slicedSource, enable: 'subgroups', name: 'bn_sliced_backward', entry: 'serial_backward_sliced', workgroups: slicedGroups });
