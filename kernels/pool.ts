/** Global average pooling over NHWC, vec4 over channels when C % 4 == 0 (kernels/vec.ts). */
import source from '../shaders/pool.wgsl';
import { grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

/** dst [outer, C] = scale * (sum over mid of src [outer, mid, C]). */
export const gapForward = defineVecKernel({
  name: 'gap_forward',
  source,
  entry: 'gap_forward',
  inputs: ['gsrc'],
  outputs: ['gdst'],
  uniforms: ['outer', 'mid', 'cv', 'scale'],
  workgroups: (u) => grid1d(u.outer! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: u.outer! * u.mid! * u.cv! * w, bytes: 4 * w * (u.outer! * u.mid! * u.cv! + u.outer! * u.cv!) }),
});

/** dx [N, H*W, C] = scale * dy [N, C] repeated over H*W; one thread per (n, block of `rows` positions, channel group). */
export const gapBackward = defineVecKernel({
  name: 'gap_backward',
  source,
  entry: 'gap_backward',
  inputs: ['gdy'],
  outputs: ['gdx'],
  uniforms: ['n', 'hw', 'cv', 'rows', 'blocks', 'scale'],
  workgroups: (u) => grid1d(u.n! * u.blocks! * u.cv!, 64),
  cost: (u, _c, w) => ({ flops: u.n! * u.hw! * u.cv! * w, bytes: 4 * w * (u.n! * u.hw! * u.cv! + u.n! * u.cv!) }),
});
