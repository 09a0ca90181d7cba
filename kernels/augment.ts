/** Batch preparation: 8-bit images -> cropped, flipped, jittered, normalised float32 NHWC. */
import source from '../shaders/augment.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

export const augmentKernel = defineKernel({
  name: 'augment',
  source,
  inputs: ['pixels', 'crops'],
  outputs: ['out'],
  uniforms: ['n', 'src', 'dst', 'm0', 'm1', 'm2', 's0', 's1', 's2'],
  // One thread per output row segment of 8 columns (shaders/augment.wgsl OB).
  workgroups: (u) => grid1d(u.n! * u.dst! * Math.ceil(u.dst! / 8), 64),
});
