/** Dense 2-D convolution (NHWC input, HWIO weights): forward, input gradient, weight gradient partial sums. */
import convSource from '../shaders/conv2d.wgsl';
import { defineKernel, grid1d, type KernelSpec, type Uniforms } from '../src/kernel/define-kernel.js';
import { EPILOGUE_INPUTS, epilogueWgsl } from './epilogue.js';

// The forward stores through `epi` (kernels/epilogue.ts): the identity here, the fused one in conv2dForwardEpi.
const source = convSource + epilogueWgsl('vec4f', 8, false);

/** Multiply-adds x 2 of one convolution (each gradient costs as much as the forward). */
const convFlops = (u: Uniforms, c: Readonly<Record<string, number>>) => 2 * u.n! * u.ho! * u.wo! * u.cout! * c.KH! * c.KW! * u.cin!;
const convBytes = (u: Uniforms, c: Readonly<Record<string, number>>, splits = 1) =>
  4 * (u.n! * u.h! * u.w! * u.cin! + splits * c.KH! * c.KW! * u.cin! * u.cout! + u.n! * u.ho! * u.wo! * u.cout!);

/** Override constants: KH, KW, S, OWB, COV, W4. One thread per (n, oy, block of OWB columns, 4*COV output channels); `wt4` is `wt` read as vec4s (bind the same tensor). */
const forwardSpec: KernelSpec = {
  name: 'conv2d_forward',
  source,
  entry: 'forward',
  inputs: ['x', 'wt', 'wt4'],
  outputs: ['y'],
  uniforms: ['n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'pad', 'wob', 'cob'],
  workgroups: (u) => grid1d(u.n! * u.ho! * u.wob! * u.cob!, 64),
  cost: (u, c) => ({ flops: convFlops(u, c), bytes: convBytes(u, c) }),
};
export const conv2dForward = defineKernel(forwardSpec);

/** conv2dForward with the inference epilogue (kernels/epilogue.ts: BatchNorm, activation); Cout % 4 == 0. */
export const conv2dForwardEpi = defineKernel({
  ...forwardSpec,
  name: 'conv2d_forward_epi',
  source: convSource + epilogueWgsl('vec4f', 8, true),
  inputs: ['x', 'wt', 'wt4', ...EPILOGUE_INPUTS],
});

/**
 * Few input channels (the stem; W*Cin % 4 == 0, Cout % 4 == 0): override constants KH, KW, S, PAD,
 * CIN, OWB, CG, XL, NV, SLIDE, OV (shaders/conv2d.wgsl, src/ops/conv2d.ts `rowsPlan`). One thread
 * per (n, oy, 4*CG output channels), the whole output row; `xr4` is x and `yr4` the output as vec4s.
 */
const forwardRowsSpec: KernelSpec = {
  name: 'conv2d_forward_rows',
  source,
  entry: 'forward_rows',
  inputs: ['xr4', 'wt4'],
  outputs: ['yr4'],
  uniforms: ['n', 'h', 'w', 'ho', 'wo', 'cout', 'cob'],
  workgroups: (u) => grid1d(u.n! * u.ho! * u.cob!, 64),
  cost: (u, c) => ({ flops: convFlops({ ...u, cin: c.CIN! }, c), bytes: convBytes({ ...u, cin: c.CIN! }, c) }),
};
export const conv2dForwardRows = defineKernel(forwardRowsSpec);

/** conv2dForwardRows with the inference epilogue. */
export const conv2dForwardRowsEpi = defineKernel({
  ...forwardRowsSpec,
  name: 'conv2d_forward_rows_epi',
  source: convSource + epilogueWgsl('vec4f', 8, true),
  inputs: ['xr4', 'wt4', ...EPILOGUE_INPUTS],
});

/** Override constants: KH, KW, S, IWB, PAD, LO, DT. One thread per (n, iy, block of IWB columns, 4 input channels). */
export const conv2dBackwardX = defineKernel({
  name: 'conv2d_backward_x',
  source,
  entry: 'backward_x',
  inputs: ['dy', 'dwt'],
  outputs: ['dx'],
  uniforms: ['n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'iwb', 'cib'],
  workgroups: (u) => grid1d(u.n! * u.h! * u.iwb! * u.cib!, 64),
  cost: (u, c) => ({ flops: convFlops(u, c), bytes: convBytes(u, c) }),
});

/**
 * conv2dBackwardX for Cout % 4 == 0: dy and the weights read as vec4s along the output channels.
 * Override constants as conv2dBackwardX plus CI (input channels per thread, 1-4).
 */
export const conv2dBackwardX4 = defineKernel({
  name: 'conv2d_backward_x4',
  source,
  entry: 'backward_x4',
  inputs: ['dyv', 'dwtv'],
  outputs: ['dxo'],
  uniforms: ['n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'iwb', 'cib'],
  workgroups: (u) => grid1d(u.n! * u.h! * u.iwb! * u.cib!, 64),
  cost: (u, c) => ({ flops: convFlops(u, c), bytes: convBytes(u, c) }),
});

/** Override constants: KH, KW, S, W4. One thread per (split, ky, ci, 4 output channels); output [splits, KH, KW, Cin, Cout]; `gdy4` is `gdy` read as vec4s (bind the same tensor). */
export const conv2dBackwardW = defineKernel({
  name: 'conv2d_backward_w',
  source,
  entry: 'backward_w',
  inputs: ['gx', 'gdy', 'gdy4'],
  outputs: ['part'],
  uniforms: ['n', 'h', 'w', 'cin', 'ho', 'wo', 'cout', 'pad', 'cob', 'chunk', 'splits', 'kh'],
  workgroups: (u) => grid1d(u.splits! * u.kh! * u.cin! * u.cob!, 64),
  cost: (u, c) => ({ flops: convFlops(u, c), bytes: convBytes(u, c, u.splits!) }),
});

/**
 * Few input channels (the stem), first stage of the weight gradient: override constants as
 * conv2dForwardRows. One thread per (split, ky, 4*CG output channels); output
 * [splits, KH, KW, CIN, Cout]; `gxr4` and `gdyr4` are x and dy read as vec4s.
 */
export const conv2dBackwardWRows = defineKernel({
  name: 'conv2d_backward_w_rows',
  source,
  entry: 'backward_w_rows',
  inputs: ['gxr4', 'gdyr4'],
  outputs: ['partr'],
  uniforms: ['n', 'h', 'w', 'ho', 'wo', 'cout', 'cob', 'chunk', 'splits', 'kh'],
  workgroups: (u) => grid1d(u.splits! * u.kh! * u.cob!, 64),
  cost: (u, c) => ({ flops: convFlops({ ...u, cin: c.CIN! }, c), bytes: convBytes({ ...u, cin: c.CIN! }, c, u.splits!) }),
});
