/** Global average pooling over NHWC. */
import source from '../shaders/pool.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

/** dst [outer, C] = scale * (sum over mid of src [outer, mid, C]). */
export const gapForward = defineKernel({
  name: 'gap_forward',
  source,
  entry: 'gap_forward',
  inputs: ['gsrc'],
  outputs: ['gdst'],
  uniforms: ['outer', 'mid', 'c', 'scale'],
  workgroups: (u) => grid1d(u.outer! * u.c!, 256),
  cost: (u) => ({ flops: u.outer! * u.mid! * u.c!, bytes: 4 * (u.outer! * u.mid! * u.c! + u.outer! * u.c!) }),
});

/** dx [N, H*W, C] = scale * dy [N, C] repeated over H*W. */
export const gapBackward = defineKernel({
  name: 'gap_backward',
  source,
  entry: 'gap_backward',
  inputs: ['gdy'],
  outputs: ['gdx'],
  uniforms: ['n', 'hwc', 'c', 'scale'],
  workgroups: (u) => grid1d(u.n!, 256),
  cost: (u) => ({ flops: u.n!, bytes: 4 * (u.n! + (u.n! / u.hwc!) * u.c!) }),
});
