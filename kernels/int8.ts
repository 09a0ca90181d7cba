/** int8 kernels: GEMM (pointwise / linear / SE), depthwise, stem, input quantization, pooling, SE scaling, dequantization. */
import depthwiseSource from '../shaders/int8-depthwise.wgsl';
import gemmSource from '../shaders/int8-gemm.wgsl';
import miscSource from '../shaders/int8-misc.wgsl';
import stemSource from '../shaders/int8-stem.wgsl';
import { grid1d } from '../src/kernel/define-kernel.js';
import { defineInt8Kernel } from './int8-path.js';

/** Rows and columns of the output one GEMM invocation computes (must match shaders/int8-gemm.wgsl). */
export const INT8_GEMM_TILE = 8;

/** Override constants: USE_TABLE, HAS_RES, FLOAT_OUT. */
export const int8GemmKernel = defineInt8Kernel({
  name: 'int8_gemm',
  source: gemmSource,
  entry: 'gemm',
  inputs: ['a', 'b', 'bias', 'mult', 'table', 'res'],
  outputs: ['c'],
  uniforms: ['m', 'n', 'k4', 'tiles_m', 'tiles_n', 'zp', 'lo', 'zr', 'rmult'],
  workgroups: (u) => grid1d(u.tiles_m! * u.tiles_n!, 64),
});

/** The same GEMM for fewer than 8 rows: one row and 8 columns per invocation. */
export const int8GemvKernel = defineInt8Kernel({
  name: 'int8_gemv',
  source: gemmSource,
  entry: 'gemv',
  inputs: ['a', 'b', 'bias', 'mult', 'table', 'res'],
  outputs: ['c'],
  uniforms: ['m', 'n', 'k4', 'tiles_m', 'tiles_n', 'zp', 'lo', 'zr', 'rmult'],
  workgroups: (u) => grid1d(u.m! * u.tiles_n!, 64),
});

/** Override constants: KSIZE, STRIDE, USE_TABLE. */
export const int8DepthwiseKernel = defineInt8Kernel({
  name: 'int8_depthwise',
  source: depthwiseSource,
  entry: 'depthwise',
  inputs: ['x', 'wt', 'bias', 'mult', 'table'],
  outputs: ['y'],
  uniforms: ['n', 'h', 'w', 'c4', 'ho', 'wo', 'wo4', 'pad', 'zx', 'zp', 'lo'],
  workgroups: (u) => grid1d(u.n! * u.ho! * u.wo4! * u.c4!, 64),
});

/** Override constants: KSIZE, STRIDE, USE_TABLE. */
export const int8StemKernel = defineInt8Kernel({
  name: 'int8_stem',
  source: stemSource,
  entry: 'stem',
  inputs: ['x', 'wt', 'bias', 'mult', 'table'],
  outputs: ['y'],
  uniforms: ['n', 'h', 'w', 'cout4', 'ho', 'wo', 'wo4', 'pad', 'zword', 'zp', 'lo'],
  workgroups: (u) => grid1d(u.n! * u.ho! * u.wo4! * u.cout4!, 64),
});

export const quantizeInputKernel = defineInt8Kernel({
  name: 'int8_quantize_input',
  source: miscSource,
  entry: 'quantize_input',
  inputs: ['qi_pixels', 'qi_table'],
  outputs: ['qi_out'],
  uniforms: ['pixels', 'zp'],
  workgroups: (u) => grid1d(u.pixels!, 64),
});

export const int8PoolKernel = defineInt8Kernel({
  name: 'int8_pool',
  source: miscSource,
  entry: 'pool',
  inputs: ['pool_x'],
  outputs: ['pool_y'],
  uniforms: ['n', 'hw', 'c4', 'zx', 'zp', 'mult'],
  workgroups: (u) => grid1d(u.n! * u.c4!, 64),
});

export const seScaleKernel = defineInt8Kernel({
  name: 'int8_se_scale',
  source: miscSource,
  entry: 'se_scale',
  inputs: ['se_x', 'se_g'],
  outputs: ['se_y'],
  uniforms: ['n', 'hw', 'c4', 'hw4', 'zx', 'zg', 'zp', 'mult'],
  workgroups: (u) => grid1d(u.n! * u.hw4! * u.c4!, 64),
});

export const dequantizeKernel = defineInt8Kernel({
  name: 'int8_dequantize',
  source: miscSource,
  entry: 'dequantize',
  inputs: ['dq_x'],
  outputs: ['dq_y'],
  uniforms: ['count', 'zp', 'scale'],
  workgroups: (u) => grid1d(u.count!, 64),
});
