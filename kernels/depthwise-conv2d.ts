/** Depthwise 2-D convolution (NHWC input, [K,K,C] weights): forward, input gradient, weight gradient partial sums. */
import source from '../shaders/depthwise-conv2d.wgsl';
import { defineKernel, grid1d, type Uniforms } from '../src/kernel/define-kernel.js';

/** Multiply-adds x 2 of one depthwise convolution (each gradient costs as much as the forward). */
const dwFlops = (u: Uniforms, c: Readonly<Record<string, number>>) => 2 * u.n! * u.ho! * u.wo! * u.c! * c.K! * c.K!;
const dwBytes = (u: Uniforms, c: Readonly<Record<string, number>>, splits = 1) => 4 * (u.n! * u.h! * u.w! * u.c! + splits * c.K! * c.K! * u.c! + u.n! * u.ho! * u.wo! * u.c!);

/** Override constants: K, S, OWB. One thread per (n, oy, block of OWB columns, channel). */
export const depthwiseForward = defineKernel({
  name: 'depthwise_conv2d_forward',
  source,
  entry: 'forward',
  inputs: ['x', 'wt'],
  outputs: ['y'],
  uniforms: ['n', 'h', 'w', 'c', 'ho', 'wo', 'pad', 'wob'],
  workgroups: (u) => grid1d(u.n! * u.ho! * u.wob! * u.c!, 64),
  cost: (u, c) => ({ flops: dwFlops(u, c), bytes: dwBytes(u, c) }),
});

/** Override constants: K, S, IWB, PAD, LO, DT. One thread per (n, iy, block of IWB columns, channel). */
export const depthwiseBackwardX = defineKernel({
  name: 'depthwise_conv2d_backward_x',
  source,
  entry: 'backward_x',
  inputs: ['dy', 'dwt'],
  outputs: ['dx'],
  uniforms: ['n', 'h', 'w', 'c', 'ho', 'wo', 'iwb'],
  workgroups: (u) => grid1d(u.n! * u.h! * u.iwb! * u.c!, 64),
  cost: (u, c) => ({ flops: dwFlops(u, c), bytes: dwBytes(u, c) }),
});

/** Override constants: K, S. One thread per (split, ky, channel); output [splits, K, K, C]. */
export const depthwiseBackwardW = defineKernel({
  name: 'depthwise_conv2d_backward_w',
  source,
  entry: 'backward_w',
  inputs: ['gx', 'gdy'],
  outputs: ['part'],
  uniforms: ['n', 'h', 'w', 'c', 'ho', 'wo', 'pad', 'chunk', 'splits', 'k'],
  workgroups: (u) => grid1d(u.splits! * u.k! * u.c!, 64),
  cost: (u, c) => ({ flops: dwFlops(u, c), bytes: dwBytes(u, c, u.splits!) }),
});
