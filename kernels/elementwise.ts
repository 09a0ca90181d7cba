/** Elementwise arithmetic with broadcasting, scalar affine maps, and the middle-axis sum. */
import source from '../shaders/elementwise.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

/** Binary op codes of the `binary` kernel. */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3 } as const;

export const binaryKernel = defineKernel({
  name: 'binary',
  source,
  entry: 'binary',
  inputs: ['a', 'b'],
  outputs: ['out'],
  uniforms: ['n', 'op', 'a_mid', 'a_inner', 'b_mid', 'b_inner'],
  workgroups: (u) => grid1d(u.n!, 256),
  // A broadcast operand (mid axis collapsed) holds n / mid elements.
  cost: (u) => ({ flops: u.n!, bytes: 4 * (u.n! + u.n! / u.a_mid! + u.n! / u.b_mid!) }),
});

export const affineKernel = defineKernel({
  name: 'affine',
  source,
  entry: 'affine',
  inputs: ['x_in'],
  outputs: ['y_out'],
  uniforms: ['n', 'scale', 'shift'],
  workgroups: (u) => grid1d(u.n!, 256),
  cost: (u) => ({ flops: 2 * u.n!, bytes: 8 * u.n! }),
});

export const reduceMidKernel = defineKernel({
  name: 'reduce_mid',
  source,
  entry: 'reduce_mid',
  inputs: ['src'],
  outputs: ['dst'],
  uniforms: ['outer', 'mid', 'inner', 'splits', 'chunk'],
  workgroups: (u) => grid1d(u.outer! * u.splits! * u.inner!, 256),
  cost: (u) => ({ flops: u.outer! * u.mid! * u.inner!, bytes: 4 * (u.outer! * u.mid! * u.inner! + u.outer! * u.splits! * u.inner!) }),
});

export const expandKernel = defineKernel({
  name: 'expand',
  source,
  entry: 'expand',
  inputs: ['e_in'],
  outputs: ['e_out'],
  uniforms: ['n', 'mid', 'inner'],
  workgroups: (u) => grid1d(u.n!, 256),
  cost: (u) => ({ flops: 0, bytes: 4 * (u.n! + u.n! / u.mid!) }),
});
