/** Products of a few rows with a weight matrix (inference at small batch), bias and activation fused. */
import gemvSource from '../shaders/gemv.wgsl';
import { activationWgsl } from './activation.js';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

/**
 * y [m, n] = act(x [m, k] · w [k, n] + bias) with n % 4 == 0; one invocation per 4 outputs of a
 * row. Override constants `HAS_BIAS` (gv_bias read; otherwise any bound buffer) and `KIND` (the
 * activation, kernels/activation.ts; identity by default).
 */
export const gemvKernel = defineKernel({
  name: 'gemv',
  source: gemvSource + activationWgsl('gv_act', 'vec4f', 'KIND'),
  entry: 'gemv',
  inputs: ['gv_x', 'gv_w', 'gv_bias'],
  outputs: ['gv_y'],
  uniforms: ['m', 'n4', 'k'],
  workgroups: (u) => grid1d(u.m! * u.n4!, 64),
  cost: (u) => ({ flops: 8 * u.m! * u.n4! * u.k!, bytes: 4 * (u.m! * u.k! + 4 * u.k! * u.n4! + 4 * u.m! * u.n4!) }),
});
