/** Register-tiled GEMM (8x8 outputs per invocation), with transpose, bias and split-K variants. */
import matmulSource from '../shaders/matmul.wgsl';
import { defineKernel, grid1d, type Uniforms } from '../src/kernel/define-kernel.js';
import { activationWgsl } from './activation.js';
import { EPILOGUE_INPUTS, epilogueWgsl } from './epilogue.js';

// gemm_nn4 stores through `epi` (kernels/epilogue.ts): the identity here, the fused one in gemmNn4EpiKernel.
const source = matmulSource + epilogueWgsl('vec4f', 8, false) + activationWgsl('out_act', 'vec4f', 'OUT_ACT');
const gemmCost = (u: Uniforms) => ({ flops: 2 * u.m! * u.n! * u.k!, bytes: 4 * (u.m! * u.k! + u.k! * u.n! + u.splits! * u.m! * u.n!) });

/** Rows and columns of c that one invocation computes (must match shaders/matmul.wgsl). */
export const GEMM_TILE_M = 8;
export const GEMM_TILE_N = 8;

/**
 * c[splits, m, n] = op(a) · op(b) (+ bias on split 0). Override constants `TRANS_A`, `TRANS_B`,
 * `HAS_BIAS` pick the variant (one pipeline each); `OUT_ACT` applies an activation after the bias
 * (one split only).
 */
export const gemmKernel = defineKernel({
  name: 'gemm',
  source,
  entry: 'gemm',
  inputs: ['a', 'b', 'bias'],
  outputs: ['c'],
  uniforms: ['m', 'n', 'k', 'chunk', 'tiles_m', 'tiles_n', 'splits'],
  workgroups: (u) => grid1d(u.tiles_m! * u.tiles_n! * u.splits!, 64),
  cost: gemmCost,
});

/**
 * c[splits, m, n] = a^T · b for a [k, m], b [k, n] with m % 4 == 0 and n % 4 == 0 (weight
 * gradients): vec4 loads. Override TN_GROUPS: 2 (8x8 tiles, the default) or 3 (8x12 tiles,
 * tiles_n = ceil(n / GEMM_TN12_TILE_N)).
 */
export const gemmTn4Kernel = defineKernel({
  name: 'gemm_tn4',
  source,
  entry: 'gemm_tn4',
  inputs: ['ta', 'tb'],
  outputs: ['tc'],
  uniforms: ['m', 'n', 'k', 'chunk', 'tiles_m', 'tiles_n', 'splits'],
  workgroups: (u) => grid1d(u.tiles_m! * u.tiles_n! * u.splits!, 64),
  cost: gemmCost,
});

/** Columns of c that one gemm_tn4 invocation computes with TN_GROUPS = 3 (rows: GEMM_TILE_M). */
export const GEMM_TN12_TILE_N = 12;

/** c[splits, m, n] = a · b for a [m, k], b [k, n] with n % 4 == 0 (no bias): b read as vec4. */
export const gemmNn4Kernel = defineKernel({
  name: 'gemm_nn4',
  source,
  entry: 'gemm_nn4',
  inputs: ['na', 'nb'],
  outputs: ['nc'],
  uniforms: ['m', 'n', 'k', 'chunk', 'tiles_m', 'tiles_n', 'splits'],
  workgroups: (u) => grid1d(u.tiles_m! * u.tiles_n! * u.splits!, 64),
  cost: gemmCost,
});

/** dst [cols, rows] = src [rows, cols]^T (short-K products with b transposed, before gemm_nn4). */
export const transposeKernel = defineKernel({
  name: 'transpose',
  source,
  entry: 'transpose',
  inputs: ['tr_src'],
  outputs: ['tr_dst'],
  uniforms: ['rows', 'cols'],
  workgroups: (u) => grid1d(u.rows! * u.cols!, 64),
  cost: (u) => ({ bytes: 8 * u.rows! * u.cols! }),
});

/**
 * gemm_nn4 with the inference epilogue (kernels/epilogue.ts): BatchNorm with running statistics,
 * activation, residual, applied as c is stored. One split only (the epilogue needs whole sums).
 */
export const gemmNn4EpiKernel = defineKernel({
  name: 'gemm_nn4_epi',
  source: matmulSource + epilogueWgsl('vec4f', 8, true) + activationWgsl('out_act', 'vec4f', 'OUT_ACT'),
  entry: 'gemm_nn4',
  inputs: ['na', 'nb', ...EPILOGUE_INPUTS],
  outputs: ['nc'],
  uniforms: ['m', 'n', 'k', 'chunk', 'tiles_m', 'tiles_n', 'splits'],
  workgroups: (u) => grid1d(u.tiles_m! * u.tiles_n! * u.splits!, 64),
  cost: gemmCost,
});
