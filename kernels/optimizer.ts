/** Fused in-place parameter updates: SGD, SGD with momentum / Nesterov, Adam and AdamW; per-step values from a scalar buffer. */
import source from '../shaders/optimizer.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

const grid = (u: Record<string, number>) => grid1d(u.n!, 256);

export const sgdStep = defineKernel({
  name: 'sgd_step', source, entry: 'sgd',
  inputs: ['sg_grad', 'sg_scalars'], outputs: [], inouts: ['sg_param'], uniforms: ['n', 'slot'], workgroups: grid,
});

export const sgdMomentumStep = defineKernel({
  name: 'sgd_momentum_step', source, entry: 'sgd_momentum',
  inputs: ['sm_grad', 'sm_scalars'], outputs: [], inouts: ['sm_param', 'sm_buf'],
  uniforms: ['n', 'momentum', 'nesterov', 'slot'], workgroups: grid,
});

export const adamStep = defineKernel({
  name: 'adam_step', source, entry: 'adam',
  inputs: ['ad_grad', 'ad_scalars'], outputs: [], inouts: ['ad_param', 'ad_m', 'ad_v'],
  uniforms: ['n', 'beta1', 'beta2', 'eps', 'slot'], workgroups: grid,
});
