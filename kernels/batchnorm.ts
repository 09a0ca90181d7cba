/** Batch normalisation: two-stage channel statistics, normalisation with a fused activation, backward. */
import source from '../shaders/batchnorm.wgsl';
import { defineKernel, grid1d, gridFor } from '../src/kernel/define-kernel.js';

/** Stage 1 of the statistics: chunk means and centred sums of squares, part [splits, 2, C]. */
export const bnStatsPartial = defineKernel({
  name: 'bn_stats_partial',
  source,
  entry: 'stats_partial',
  inputs: ['sx'],
  outputs: ['spart'],
  uniforms: ['m', 'c', 'splits', 'chunk'],
  workgroups: (u) => grid1d(u.splits! * u.c!, 256),
});

/** Stage 2: batch mean and 1/std into stats [2, C]; updates the running statistics in place. */
export const bnStatsFinal = defineKernel({
  name: 'bn_stats_final',
  source,
  entry: 'stats_final',
  inputs: ['fpart'],
  outputs: ['fstats'],
  inouts: ['run_mean', 'run_var'],
  uniforms: ['m', 'c', 'splits', 'chunk', 'eps', 'momentum'],
  workgroups: (u) => gridFor(u.c!),
});

/** Evaluation statistics [2, C] from the running mean and variance. */
export const bnEvalStats = defineKernel({
  name: 'bn_eval_stats',
  source,
  entry: 'eval_stats',
  inputs: ['rm_in', 'rv_in'],
  outputs: ['estats'],
  uniforms: ['c', 'eps'],
  workgroups: (u) => grid1d(u.c!, 64),
});

/** y = act((x - mean) * invstd * gamma + beta). */
export const bnApply = defineKernel({
  name: 'bn_apply',
  source,
  entry: 'apply',
  inputs: ['ax', 'astats', 'agamma', 'abeta'],
  outputs: ['ay'],
  uniforms: ['n', 'c', 'kind'],
  workgroups: (u) => grid1d(u.n!, 256),
});

/** Backward stage 1: per-split sums of dz and dz * xhat, part [splits, 2, C]. */
export const bnBackwardPartial = defineKernel({
  name: 'bn_backward_partial',
  source,
  entry: 'backward_partial',
  inputs: ['bx', 'bdy', 'bstats', 'bgamma', 'bbeta'],
  outputs: ['bpart'],
  uniforms: ['m', 'c', 'splits', 'chunk', 'kind'],
  workgroups: (u) => grid1d(u.splits! * u.c!, 256),
});

/** Backward stage 2: dbeta and dgamma [C]. */
export const bnBackwardFinal = defineKernel({
  name: 'bn_backward_final',
  source,
  entry: 'backward_final',
  inputs: ['qpart'],
  outputs: ['dbeta', 'dgamma'],
  uniforms: ['c', 'splits'],
  workgroups: (u) => gridFor(u.c!),
});

/** Input gradient, with batch statistics (training) or constant ones (eval). */
export const bnBackwardDx = defineKernel({
  name: 'bn_backward_dx',
  source,
  entry: 'backward_dx',
  inputs: ['dx_x', 'dx_dy', 'dx_stats', 'dx_gamma', 'dx_beta', 'dsum_b', 'dsum_g'],
  outputs: ['dx_out'],
  uniforms: ['n', 'c', 'm', 'kind', 'training'],
  workgroups: (u) => grid1d(u.n!, 256),
});
