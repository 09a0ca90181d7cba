/**
 * Elementwise arithmetic with broadcasting, scalar affine maps, and the middle-axis sum.
 * Most come at two widths (kernels/vec.ts): vec4 when the rows they walk are multiples of 4 floats,
 * scalar otherwise; sizes and strides in their uniforms count elements of that width.
 */
import source from '../shaders/elementwise.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

/** Binary op codes (override constant `OP` of `binary_rows`, uniform `op` of `binary`). */
export const BinaryOp = { add: 0, sub: 1, mul: 2, div: 3 } as const;
/** `binary_rows` with this OP copies its first operand (materialises a broadcast). */
export const COPY_OP = 4;

/**
 * out = a op b on the output viewed as [outer, mid, inner], each operand full-size or broadcast
 * along mid (strides a_os/a_ms, b_os/b_ms); one thread per (o, block of `rows` mid rows, j).
 */
export const binaryRowsKernel = defineVecKernel({
  name: 'binary_rows',
  source,
  entry: 'binary_rows',
  inputs: ['ra', 'rb'],
  outputs: ['rout'],
  uniforms: ['outer', 'mid', 'inner', 'rows', 'blocks', 'a_os', 'a_ms', 'b_os', 'b_ms'],
  workgroups: (u) => grid1d(u.outer! * u.blocks! * u.inner!, 64),
  cost: (u, c, w) => {
    const n = u.outer! * u.mid! * u.inner! * w;
    const operand = (ms: number) => (ms === 0 ? n / u.mid! : n);
    return { flops: c.OP === COPY_OP ? 0 : n, bytes: 4 * (n + operand(u.a_ms!) + (c.OP === COPY_OP ? 0 : operand(u.b_ms!))) };
  },
});

/** Any broadcast (operands as [outer, mid, inner] with mid collapsed); two divisions per element: the fallback. */
export const binaryKernel = defineKernel({
  name: 'binary',
  source: `alias V = f32;\n${source}`,
  entry: 'binary',
  inputs: ['a', 'b'],
  outputs: ['out'],
  uniforms: ['n', 'op', 'a_mid', 'a_inner', 'b_mid', 'b_inner'],
  workgroups: (u) => grid1d(u.n!, 256),
  // A broadcast operand (mid axis collapsed) holds n / mid elements.
  cost: (u) => ({ flops: u.n!, bytes: 4 * (u.n! + u.n! / u.a_mid! + u.n! / u.b_mid!) }),
});

export const affineKernel = defineVecKernel({
  name: 'affine',
  source,
  entry: 'affine',
  inputs: ['x_in'],
  outputs: ['y_out'],
  uniforms: ['n', 'scale', 'shift'],
  workgroups: (u) => grid1d(u.n!, 256),
  cost: (u, _c, w) => ({ flops: 2 * u.n! * w, bytes: 8 * u.n! * w }),
});

/** dst[o, s, j] = sum over chunk s of src[o, m, j] (times src2[o, m, j] with override PRODUCT). */
export const reduceMidKernel = defineVecKernel({
  name: 'reduce_mid',
  source,
  entry: 'reduce_mid',
  inputs: ['src', 'src2'],
  outputs: ['dst'],
  uniforms: ['outer', 'mid', 'inner', 'splits', 'chunk'],
  workgroups: (u) => grid1d(u.outer! * u.splits! * u.inner!, 64),
  cost: (u, c, w) => {
    const n = u.outer! * u.mid! * u.inner! * w;
    return { flops: c.PRODUCT ? 2 * n : n, bytes: 4 * ((c.PRODUCT ? 2 : 1) * n + u.outer! * u.splits! * u.inner! * w) };
  },
});
