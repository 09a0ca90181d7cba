/** Batch preparation: 8-bit images -> cropped, flipped, jittered, normalised float32 NHWC. */
import source from '../shaders/augment.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

export const augmentKernel = defineKernel({
  name: 'augment',
  source,
  inputs: ['pixels', 'crops'],
  outputs: ['out'],
  uniforms: ['n', 'src', 'dst', 'm0', 'm1', 'm2', 's0', 's1', 's2'],
  workgroups: (u) => grid1d(u.n! * u.dst! * u.dst!, 64),
});
