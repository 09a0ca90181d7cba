/** Elementwise arithmetic with broadcasting, sums and means: forward kernels and backward rules. */
import { affineKernel, binaryKernel, BinaryOp, binaryRowsKernel, COPY_OP, reduceMidKernel } from '../../kernels/elementwise.js';
import { pickWidth } from '../../kernels/vec.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import { numel } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { attach } from '../autograd/graph.js';
import { broadcastShapes, patternOf } from './broadcast.js';
import { threadTarget } from '../kernel/thread-target.js';

/** A view of `t` with another shape; `t` itself is released (its storage lives on in the view). */
export function moveTo(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.view(shape);
  t.release();
  return v;
}

/** Threads the row-walking kernels aim for on a GPU (an eighth on a CPU adapter: src/kernel/thread-target.ts), each with a run of rows. */
const ROW_THREADS = 16384;

/**
 * Runs `binary_rows` on the output [outer, mid, inner]: `a` (and `b`, unless op is COPY_OP) each
 * full-size or broadcast along mid. vec4 when inner % 4 == 0.
 */
function rowsKernel(op: number, a: Tensor, aFull: boolean, b: Tensor, bFull: boolean, shape: readonly number[], outer: number, mid: number, inner: number): Tensor {
  const { kernel, w } = pickWidth(binaryRowsKernel, inner);
  const iv = inner / w;
  const rows = Math.min(mid, Math.max(1, Math.ceil((outer * mid * iv) / threadTarget(ROW_THREADS))));
  const strides = (full: boolean) => (full ? [mid * iv, iv] : [iv, 0]);
  const [aOs, aMs] = strides(aFull);
  const [bOs, bMs] = strides(bFull);
  return runKernel1(kernel, { ra: a, rb: b }, { shape }, {
    outer, mid, inner: iv, rows, blocks: Math.ceil(mid / rows), a_os: aOs!, a_ms: aMs!, b_os: bOs!, b_ms: bMs!,
  }, { constants: { OP: op } });
}

function binary(op: keyof typeof BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const n = numel(shape);
  const aFull = a.size === n;
  const bFull = b.size === n;
  // Equal shapes: rows of 4 (vec4) or 1 element. One operand broadcast along one block of
  // dimensions (SE gates, per-channel vectors): that operand's pattern. Anything else: the fallback.
  if (aFull && bFull) {
    const inner = n % 4 === 0 ? 4 : 1;
    return rowsKernel(BinaryOp[op], a, true, b, true, shape, 1, n / inner, inner);
  }
  const pa = patternOf(a.shape, shape, op);
  const pb = patternOf(b.shape, shape, op);
  if (aFull || bFull) {
    const p = aFull ? pb : pa;
    return rowsKernel(BinaryOp[op], a, aFull, b, bFull, shape, p.outer, p.mid, p.inner);
  }
  return runKernel1(binaryKernel, { a, b }, { shape }, {
    n, op: BinaryOp[op], a_mid: pa.mid, a_inner: pa.inner, b_mid: pb.mid, b_inner: pb.inner,
  });
}

/** y = x * scale + shift, with autograd. */
export function affine(x: Tensor, scale: number, shift = 0): Tensor {
  const { kernel, w } = pickWidth(affineKernel, x.size);
  const y = runKernel1(kernel, { x_in: x }, { shape: x.shape }, { n: x.size / w, scale, shift });
  return attach(y, 'affine', [x], (g) => [affine(g, scale)]);
}

/**
 * Sums `x` down to `shape` (the reverse of broadcasting `shape` up to `x.shape`).
 * Backward rules use it to return gradients of broadcast operands.
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) === x.size) return x.view(shape);
  const p = patternOf(shape, x.shape, 'sumTo');
  return moveTo(reduceMid(x, p.outer, p.mid, p.inner), shape);
}

/**
 * out[o, j] = sum_m x[o, m, j] (times y[o, m, j] when `y` is given: the product is never stored)
 * for x viewed as [outer, mid, inner]; two passes or more when mid is long.
 */
export function reduceMid(x: Tensor, outer: number, mid: number, inner: number, y?: Tensor): Tensor {
  const { kernel, w } = pickWidth(reduceMidKernel, inner);
  const iv = inner / w;
  // Enough threads to keep the adapter busy, each summing a contiguous chunk of at least 32.
  const splits = Math.max(1, Math.min(Math.ceil(mid / 32), Math.ceil(threadTarget(8192) / Math.max(1, outer * iv))));
  const chunk = Math.ceil(mid / splits);
  const real = Math.ceil(mid / chunk);
  const part = runKernel1(kernel, { src: x, src2: y ?? x }, { shape: [outer, real, inner] }, { outer, mid, inner: iv, splits: real, chunk }, {
    constants: { PRODUCT: y ? 1 : 0 },
  });
  if (real === 1) return moveTo(part, [outer, inner]);
  const out = reduceMid(part, outer, real, inner);
  part.release();
  return out;
}

let deferSums = true;

/** @internal Whether sumSplits defers its sums (default true); returns the previous setting. For tests and benchmarks. */
export function setDeferredSplitSums(on: boolean): boolean {
  const old = deferSums;
  deferSums = on;
  return old;
}

/**
 * @internal Partial sums `part` ([splits, ...] of split-K GEMMs and split weight gradients)
 * summed over the splits into a tensor of `shape`; `part` is consumed (released or reused).
 * The sum is deferred to the result's first use (Tensor.deferredSum): a weight gradient's first
 * use is the optimizer, whose Adam kernels sum the partials as they read them, which saves the
 * reduction's dispatch (about 50 per MobileNetV3-Small training step).
 */
export function sumSplits(part: Tensor, splits: number, shape: readonly number[]): Tensor {
  if (splits === 1) return moveTo(part, shape);
  const parts = keep(part);
  const summed = Tensor.deferredSum(shape, { parts, splits, sum: () => reduceMid(parts, 1, splits, parts.size / splits) });
  if (!deferSums) void summed.buffer; // the sum now, as before deferral
  return summed;
}

/** a + b (b may be a number). */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const y = binary('add', a, b);
  return attach(y, 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

/** a - b (b may be a number). */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const y = binary('sub', a, b);
  return attach(y, 'sub', [a, b], (g) => {
    const gb = sumTo(g, b.shape);
    const neg = affine(gb, -1);
    gb.release();
    return [sumTo(g, a.shape), neg];
  });
}

/** a * b (b may be a number). */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const y = binary('mul', a, b);
  return attach(y, 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceProduct(g, b, a.shape) : null,
    b.requiresGrad ? reduceProduct(g, a, b.shape) : null,
  ]);
}

/** sumTo(g * other, shape); when `other` is full-size the product is summed as it is formed (one pass). */
function reduceProduct(g: Tensor, other: Tensor, shape: readonly number[]): Tensor {
  if (other.size === g.size && numel(shape) !== g.size) {
    const p = patternOf(shape, g.shape, 'mul');
    return moveTo(reduceMid(g, p.outer, p.mid, p.inner, other), shape);
  }
  const prod = binary('mul', g, other);
  const out = sumTo(prod, shape);
  if (out.size !== prod.size) prod.release();
  return out;
}

/** a / b (b may be a number). */
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    if (b === 0) throw new MobilegradError('div: division by the number 0');
    return affine(a, 1 / b, 0);
  }
  const y = binary('div', a, b);
  return attach(y, 'div', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      const q = binary('div', g, b);
      ga = sumTo(q, a.shape);
      if (ga.size !== q.size) q.release();
    }
    if (b.requiresGrad) {
      // d(a/b)/db = -a/b^2 = -(y / b)
      const t = binary('div', y, b);
      const t2 = binary('mul', g, t);
      t.release();
      const s = sumTo(t2, b.shape);
      if (s.size !== t2.size) t2.release();
      gb = affine(s, -1);
      s.release();
    }
    return [ga, gb];
  });
}

function normAxes(x: Tensor, axes: number | readonly number[] | undefined, op: string): number[] {
  const r = x.shape.length;
  const list = axes === undefined ? [...Array(r).keys()] : typeof axes === 'number' ? [axes] : [...axes];
  const norm = [...new Set(list.map((a) => (a < 0 ? a + r : a)))].sort((p, q) => p - q);
  for (const a of norm) if (a < 0 || a >= r) throw new MobilegradError(`${op}: axis out of range for shape [${x.shape.join(', ')}]`);
  return norm;
}

/** Sum over `axes` (all by default). Reduced axes must be adjacent once size-1 axes are ignored. */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(x, axes, 'sum');
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i));
  const y = moveTo(sumTo(x, kept), outShape);
  return attach(y, 'sum', [x], (g) => {
    const gv = g.view(kept);
    const r = broadcastTo(gv, x.shape);
    gv.release();
    return [r];
  });
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(x, axes, 'mean');
  const count = ax.reduce((n, a) => n * x.shape[a]!, 1);
  const s = sum(x, ax, keepDims);
  const m = mul(s, 1 / count);
  return m;
}

/** Repeats `x` along broadcast dimensions to `shape` (materialised), with autograd. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.size === numel(shape)) return x.view(shape);
  const p = patternOf(x.shape, shape, 'broadcastTo');
  const y = rowsKernel(COPY_OP, x, false, x, false, shape, p.outer, p.mid, p.inner);
  return attach(y, 'broadcastTo', [x], (g) => [sumTo(g, x.shape)]);
}

/** Gives `x` a new shape with the same number of elements (no copy). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const fill = shape.includes(-1) ? x.size / numel(known) : 1;
  const full = shape.map((d) => (d === -1 ? fill : d));
  if (numel(full) !== x.size) throw new MobilegradError(`reshape: cannot reshape [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
  const y = x.view(full);
  return attach(y, 'reshape', [x], (g) => [g.view(x.shape)]);
}
