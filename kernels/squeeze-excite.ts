/** Squeeze-and-excitation's fused input gradient (src/ops/squeeze-excite.ts). */
import source from '../shaders/squeeze-excite.wgsl';
import { grid1d } from '../src/kernel/define-kernel.js';
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
