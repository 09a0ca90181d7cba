/**
 * The int8 ops: each runs one int8 kernel (kernels/int8.ts) on packed int8 tensors (dtype
 * `i8x4`, shapes in int8 elements, the last dimension a multiple of 4) after checking shapes.
 * Not differentiable: they serve inference. The arithmetic is docs/quantization.md's.
 */
import {
  dequantizeKernel, int8DepthwiseKernel, int8GemmKernel, int8GemvKernel, int8PoolKernel, int8StemKernel, INT8_GEMM_TILE, quantizeInputKernel, seScaleKernel,
} from '../../kernels/int8.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';

/** Per-output-channel requantization: int32 bias (zero point folded in), f32 multipliers, optional table. */
export interface Requant {
  /** i32 [channels]. */
  bias: Tensor;
  /** f32 [channels]: s_in * s_w[c] / s_out (or s_in * s_w[c] for float output). */
  mult: Tensor;
  /** i32 [256]: output for each requantized value + 128 (h-swish, h-sigmoid); absent: none. */
  table?: Tensor;
  /** Output zero point. */
  zp: number;
  /** Lower clamp: the output zero point for a fused ReLU, -128 otherwise. */
  lo: number;
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new MobilegradError(msg);
}

function checkInt8(t: Tensor, op: string, what: string): void {
  need(t.dtype === 'i8x4', `${op}: ${what} must be int8 (i8x4), got ${t.dtype}`);
  need(t.shape.length > 0 && t.shape[t.shape.length - 1]! % 4 === 0, `${op}: ${what} [${t.shape.join(', ')}]: the last dimension must be a multiple of 4`);
}

function checkRequant(r: Requant, channels: number, op: string): void {
  need(r.bias.dtype === 'i32' && r.bias.size === channels, `${op}: bias must be i32 [${channels}], got ${r.bias.dtype} [${r.bias.shape.join(', ')}]`);
  need(r.mult.dtype === 'f32' && r.mult.size === channels, `${op}: mult must be f32 [${channels}], got ${r.mult.dtype} [${r.mult.shape.join(', ')}]`);
  if (r.table) need(r.table.dtype === 'i32' && r.table.size === 256, `${op}: table must be i32 [256]`);
}

/** A residual added before rounding in {@link int8Gemm}: int8 like the output, its zero point and s_res / s_out. */
export interface Residual {
  x: Tensor;
  zp: number;
  mult: number;
}

export interface GemmOptions {
  /** Logits: write f32(acc) * mult instead of requantizing (zp, lo and table are ignored). */
  floatOut?: boolean;
  residual?: Residual;
}

/**
 * y[..., n] = requant(bias + a[..., k] · w[n, k]): pointwise convolution (a is NHWC), linear
 * layer, SE fully connected layer. `w` is int8 [n, k] (PyTorch's [out, in]).
 */
export function int8Gemm(a: Tensor, w: Tensor, r: Requant, options: GemmOptions = {}): Tensor {
  const op = 'int8Gemm';
  checkInt8(a, op, 'a');
  checkInt8(w, op, 'w');
  need(w.shape.length === 2, `${op}: w must be [n, k], got [${w.shape.join(', ')}]`);
  const k = a.shape[a.shape.length - 1]!;
  const [n, kw] = w.shape as [number, number];
  need(k === kw, `${op}: a [${a.shape.join(', ')}] and w [${w.shape.join(', ')}] disagree on k`);
  need(options.floatOut || n % 4 === 0, `${op}: int8 output needs n a multiple of 4, got ${n}`);
  checkRequant(r, n, op);
  const m = a.size / k;
  const res = options.residual;
  const outShape = [...a.shape.slice(0, -1), n];
  if (res) {
    checkInt8(res.x, op, 'residual');
    need(res.x.shape.join() === outShape.join(), `${op}: residual [${res.x.shape.join(', ')}] must be the output's shape [${outShape.join(', ')}]`);
  }
  const tiles_m = Math.ceil(m / INT8_GEMM_TILE);
  const tiles_n = Math.ceil(n / INT8_GEMM_TILE);
  // Fewer than 8 rows (batch-1 linear layers): the one-row variant, no duplicated rows.
  return runKernel1(
    (m < INT8_GEMM_TILE ? int8GemvKernel : int8GemmKernel).get(),
    { a, b: w, bias: r.bias, mult: r.mult, table: r.table ?? r.bias, res: res?.x ?? r.bias },
    { shape: outShape, dtype: options.floatOut ? 'f32' : 'i8x4' },
    { m, n, k4: k / 4, tiles_m, tiles_n, zp: r.zp, lo: r.lo, zr: res?.zp ?? 0, rmult: res?.mult ?? 0 },
    { constants: { USE_TABLE: r.table && !options.floatOut ? 1 : 0, HAS_RES: res && !options.floatOut ? 1 : 0, FLOAT_OUT: options.floatOut ? 1 : 0 } },
  );
}

export interface ConvGeometry {
  stride: number;
  /** Input zero point (padding value). */
  zx: number;
}

const outSize = (h: number, k: number, s: number, pad: number) => Math.floor((h + 2 * pad - k) / s) + 1;

/** Depthwise k x k convolution, padding (k-1)/2: x [n, h, w, c], w int8 [k, k, c] -> [n, ho, wo, c]. */
export function int8Depthwise(x: Tensor, w: Tensor, r: Requant, g: ConvGeometry): Tensor {
  const op = 'int8Depthwise';
  checkInt8(x, op, 'x');
  checkInt8(w, op, 'w');
  need(x.shape.length === 4, `${op}: x must be [n, h, w, c], got [${x.shape.join(', ')}]`);
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [k, k2, cw] = w.shape as [number, number, number];
  need(w.shape.length === 3 && k === k2 && cw === c && k % 2 === 1, `${op}: w must be [k, k, ${c}] with k odd, got [${w.shape.join(', ')}]`);
  need(3 * g.stride + k <= 11, `${op}: kernel ${k} at stride ${g.stride} is beyond what the kernel supports (3*stride + k <= 11)`);
  checkRequant(r, c, op);
  const pad = (k - 1) / 2;
  const ho = outSize(h, k, g.stride, pad);
  const wo = outSize(wd, k, g.stride, pad);
  return runKernel1(
    int8DepthwiseKernel.get(),
    { x, wt: w, bias: r.bias, mult: r.mult, table: r.table ?? r.bias },
    { shape: [n, ho, wo, c], dtype: 'i8x4' },
    { n, h, w: wd, c4: c / 4, ho, wo, wo4: Math.ceil(wo / 4), pad, zx: g.zx, zp: r.zp, lo: r.lo },
    { constants: { KSIZE: k, STRIDE: g.stride, USE_TABLE: r.table ? 1 : 0 } },
  );
}

/**
 * Dense k x k convolution over 4 input channels (the stem; RGB plus a zero-weight channel),
 * padding (k-1)/2: x [n, h, w, 4], w int8 [k, k, cout, 4] -> [n, ho, wo, cout].
 */
export function int8Stem(x: Tensor, w: Tensor, r: Requant, g: ConvGeometry): Tensor {
  const op = 'int8Stem';
  checkInt8(x, op, 'x');
  checkInt8(w, op, 'w');
  need(x.shape.length === 4 && x.shape[3] === 4, `${op}: x must be [n, h, w, 4], got [${x.shape.join(', ')}]`);
  const [n, h, wd] = x.shape as [number, number, number, number];
  const [k, k2, cout, ci] = w.shape as [number, number, number, number];
  need(w.shape.length === 4 && k === k2 && ci === 4 && cout % 4 === 0 && k % 2 === 1, `${op}: w must be [k, k, cout, 4] with k odd and cout a multiple of 4, got [${w.shape.join(', ')}]`);
  need(3 * g.stride + k <= 11, `${op}: kernel ${k} at stride ${g.stride} is beyond what the kernel supports`);
  checkRequant(r, cout, op);
  const pad = (k - 1) / 2;
  const ho = outSize(h, k, g.stride, pad);
  const wo = outSize(wd, k, g.stride, pad);
  const zb = g.zx & 0xff;
  return runKernel1(
    int8StemKernel.get(),
    { x, wt: w, bias: r.bias, mult: r.mult, table: r.table ?? r.bias },
    { shape: [n, ho, wo, cout], dtype: 'i8x4' },
    { n, h, w: wd, cout4: cout / 4, ho, wo, wo4: Math.ceil(wo / 4), pad, zword: (zb | (zb << 8) | (zb << 16) | (zb << 24)) >>> 0, zp: r.zp, lo: r.lo },
    { constants: { KSIZE: k, STRIDE: g.stride, USE_TABLE: r.table ? 1 : 0 } },
  );
}

/**
 * 8-bit RGB images (packed bytes from `uploadImages`, [n, size, size, 3]) -> int8 [n, size, size, 4]:
 * channel c of pixel value v becomes table[c * 256 + v]; the fourth channel is `zp`.
 */
export function quantizeImages(pixels: Tensor, n: number, size: number, table: Tensor, zp: number): Tensor {
  need(pixels.dtype === 'u32' && pixels.size * 4 >= n * size * size * 3, `quantizeImages: pixels must be packed bytes of ${n} images ${size}x${size}x3`);
  need(table.dtype === 'i32' && table.size === 768, 'quantizeImages: table must be i32 [768]');
  return runKernel1(quantizeInputKernel.get(), { qi_pixels: pixels, qi_table: table }, { shape: [n, size, size, 4], dtype: 'i8x4' }, { pixels: n * size * size, zp });
}

/** Global average pool: x [n, h, w, c] -> [n, c], requantized with mult = s_x / (h * w * s_y). */
export function int8Pool(x: Tensor, zx: number, zp: number, mult: number): Tensor {
  checkInt8(x, 'int8Pool', 'x');
  need(x.shape.length === 4, `int8Pool: x must be [n, h, w, c], got [${x.shape.join(', ')}]`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return runKernel1(int8PoolKernel.get(), { pool_x: x }, { shape: [n, c], dtype: 'i8x4' }, { n, hw: h * w, c4: c / 4, zx, zp, mult });
}

/** SE scaling: x [n, h, w, c] times gate [n, c] (int8), requantized with mult = s_x * s_g / s_y. */
export function int8SeScale(x: Tensor, gate: Tensor, q: { zx: number; zg: number; zp: number; mult: number }): Tensor {
  checkInt8(x, 'int8SeScale', 'x');
  checkInt8(gate, 'int8SeScale', 'gate');
  need(x.shape.length === 4, `int8SeScale: x must be [n, h, w, c], got [${x.shape.join(', ')}]`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  need(gate.shape.join() === `${n},${c}`, `int8SeScale: gate must be [${n}, ${c}], got [${gate.shape.join(', ')}]`);
  const hw = h * w;
  return runKernel1(seScaleKernel.get(), { se_x: x, se_g: gate }, { shape: x.shape, dtype: 'i8x4' }, { n, hw, c4: c / 4, hw4: Math.ceil(hw / 4), zx: q.zx, zg: q.zg, zp: q.zp, mult: q.mult });
}

/** float32 values (q - zp) * scale of an int8 tensor. */
export function dequantize(x: Tensor, scale: number, zp: number): Tensor {
  need(x.dtype === 'i8x4', `dequantize: x must be int8 (i8x4), got ${x.dtype}`);
  return runKernel1(dequantizeKernel.get(), { dq_x: x }, { shape: x.shape }, { count: x.size, zp, scale });
}
