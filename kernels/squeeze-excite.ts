/** Squeeze-and-excitation's fused input gradient (src/ops/squeeze-excite.ts). */
import source from '../shaders/squeeze-excite.wgsl';
import gateSource from '../shaders/se-gate.wgsl';
import { activationWgsl } from './activation.js';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

/** dx [n, hw, C] = g * gate [n, C] + dpooled [n, C] * scale; one thread per (image, run of `rows` positions, channel group). */
export const seBackwardX = defineVecKernel({
  name: 'se_backward_x',
  source,
  entry: 'se_backward_x',
  inputs: ['se_g', 'se_gate', 'se_dpool'],
  outputs: ['se_dx'],
  uniforms: ['n', 'hw', 'cv', 'rows', 'blocks', 'scale'],
  workgroups: (u) => grid1d(u.n! * u.blocks! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: 2 * u.n! * u.hw! * u.cv! * w, bytes: 4 * w * (2 * u.n! * u.hw! * u.cv! + 2 * u.n! * u.cv!) }),
});

/**
 * The SE gate for inference at small batches (shaders/se-gate.wgsl): gate [N, C] =
 * hsigmoid(relu(mean_hw(x) · w1 + b1) · w2 + b2), one workgroup per image; C and S in fours, at
 * most 1024 each (the workgroup caches).
 */
export const seGate = defineKernel({
  name: 'se_gate',
  source: gateSource + activationWgsl('se_relu', 'vec4f', 'RELU_KIND') + activationWgsl('se_hsig', 'vec4f', 'HSIG_KIND'),
  entry: 'se_gate',
  inputs: ['gt_x', 'gt_w1', 'gt_b1', 'gt_w2', 'gt_b2'],
  outputs: ['gt_gate'],
  uniforms: ['n', 'hw', 'cv', 'sv', 'scale'],
  // One workgroup per image.
  workgroups: (u) => [u.n!, 1, 1],
  cost: (u) => ({ flops: 4 * u.n! * u.hw! * u.cv! + 2 * 2 * 16 * u.n! * u.cv! * u.sv!, bytes: 16 * (u.n! * u.hw! * u.cv! + 8 * u.cv! * u.sv! + u.sv! + 2 * u.cv! + u.n! * u.cv!) }),
});
