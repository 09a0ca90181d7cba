/** Fused in-place parameter updates: SGD, SGD with momentum / Nesterov, Adam and AdamW. */
import source from '../shaders/optimizer.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

const grid = (u: Record<string, number>) => grid1d(u.n!, 256);

export const sgdStep = defineKernel({
  name: 'sgd_step', source, entry: 'sgd',
  inputs: ['sg_grad'], outputs: [], inouts: ['sg_param'], uniforms: ['n', 'lr', 'weight_decay'], workgroups: grid,
});

export const sgdMomentumStep = defineKernel({
  name: 'sgd_momentum_step', source, entry: 'sgd_momentum',
  inputs: ['sm_grad'], outputs: [], inouts: ['sm_param', 'sm_buf'],
  uniforms: ['n', 'lr', 'weight_decay', 'momentum', 'buf_keep', 'grad_scale', 'nesterov'], workgroups: grid,
});

export const adamStep = defineKernel({
  name: 'adam_step', source, entry: 'adam',
  inputs: ['ad_grad'], outputs: [], inouts: ['ad_param', 'ad_m', 'ad_v'],
  uniforms: ['n', 'beta1', 'beta2', 'eps', 'l2', 'decay', 'step_size', 'bc2_sqrt'], workgroups: grid,
});
