/** Inverted dropout with a hash-generated mask: forward and backward regenerate the same mask from a seed buffer. */
import source from '../shaders/dropout.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

const uniforms = ['n', 'threshold', 'scale'] as const;

export const dropoutForward = defineKernel({
  name: 'dropout_forward', source, entry: 'forward',
  inputs: ['x', 'fseed'], outputs: ['y'], uniforms, workgroups: (u) => grid1d(u.n!, 256),
});

export const dropoutBackward = defineKernel({
  name: 'dropout_backward', source, entry: 'backward',
  inputs: ['dy', 'bseed'], outputs: ['dx'], uniforms, workgroups: (u) => grid1d(u.n!, 256),
});
