/** Gradient clipping by global norm: partial sums of squares, the norm and coefficient, the scale. */
import source from '../shaders/clip-grad.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

/** Most workgroups one gradient's sum of squares is split over. */
export const SUMSQ_MAX_GROUPS = 64;

export const gradSumsq = defineKernel({
  name: 'clip_grad_sumsq',
  source,
  entry: 'sumsq',
  inputs: ['g'],
  outputs: [],
  inouts: ['partials'],
  uniforms: ['n', 'base', 'groups'],
  workgroups: (u) => [u.groups!, 1, 1],
  cost: (u) => ({ flops: 2 * u.n!, bytes: 4 * (u.n! + u.groups!) }),
});

export const gradNormFinish = defineKernel({
  name: 'clip_grad_finish',
  source,
  entry: 'finish',
  inputs: ['parts'],
  outputs: ['norm', 'coef'],
  uniforms: ['count', 'max_norm'],
  workgroups: () => [1, 1, 1],
  cost: (u) => ({ flops: u.count!, bytes: 4 * (u.count! + 2) }),
});

export const gradScale = defineKernel({
  name: 'clip_grad_scale',
  source,
  entry: 'apply',
  inputs: ['scale'],
  outputs: [],
  inouts: ['sg'],
  uniforms: ['n'],
  workgroups: (u) => grid1d(u.n!, 256),
  cost: (u) => ({ flops: u.n!, bytes: 8 * u.n! }),
});
