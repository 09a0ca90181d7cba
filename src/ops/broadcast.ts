/**
 * Broadcasting as the kernels see it: an operand of shape `s` against an output shape `out` is
 * [outer, mid, inner] with the mid block of dimensions collapsed (size 1 in `s`). That covers a
 * per-channel vector against NHWC ([C] vs [N,H,W,C]), SE gates ([N,1,1,C]), scalars and equal shapes.
 */
import { MobilegradError } from '../device/errors.js';
import { numel } from '../tensor/dtype.js';

export interface Pattern {
  outer: number;
  mid: number;
  inner: number;
}

/** Shape of `a` op `b` under NumPy broadcasting rules. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new MobilegradError(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** How an operand of shape `s` maps onto `out`; mid = inner = 1 means "same size". */
export function patternOf(s: readonly number[], out: readonly number[], op: string): Pattern {
  const r = out.length;
  const padded = [...Array(r - s.length).fill(1), ...s];
  const isB = out.map((d, i) => d !== 1 && padded[i] === 1);
  const first = isB.indexOf(true);
  if (first < 0) return { outer: numel(out), mid: 1, inner: 1 };
  const last = isB.lastIndexOf(true);
  for (let i = first; i <= last; i++) {
    if (!isB[i] && out[i] !== 1) {
      throw new MobilegradError(
        `${op}: broadcasting [${s.join(', ')}] to [${out.join(', ')}] needs two separate broadcast blocks; reshape so the broadcast dimensions are adjacent`,
      );
    }
  }
  return { outer: numel(out.slice(0, first)), mid: numel(out.slice(first, last + 1)), inner: numel(out.slice(last + 1)) };
}
