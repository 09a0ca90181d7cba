/**
 * Activation ranges from calibration images: the folded float graph runs on a few hundred
 * training images and every quantized tensor is observed (exact min and max, plus a seeded
 * sample of its values); a range method then picks each tensor's [lo, hi]:
 *   - `minmax`: the observed extremes;
 *   - `percentile`: the 0.01 % and 99.99 % quantiles of the sample (clips rare outliers);
 *   - `mse`: [min, max] with each end shrunk to minimise the sample's quantization error.
 * The default is `percentile`: on the demo models it agreed best with the float model (the
 * measurements are in docs/quantization.md); `minmax` lost the most.
 */
import { noGrad } from '../autograd/graph.js';
import { identityParams, prepareBatch, uploadImages } from '../ops/augment.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { gatherImages, type ImageSet } from '../train/evaluate.js';
import type { FoldedNet } from './fold.js';
import { floatGraphForward, releaseWeights, uploadFolded } from './float-graph.js';
import { paramsForRange, type QuantParams } from './qparams.js';

export type RangeMethod = 'minmax' | 'percentile' | 'mse';

export const DEFAULT_RANGE_METHOD: RangeMethod = 'percentile';

const SAMPLE = 1 << 15;

/** Running statistics of one tensor: extremes and a uniform reservoir sample of its values. */
export class RangeObserver {
  min = Infinity;
  max = -Infinity;
  seen = 0;
  readonly sample = new Float32Array(SAMPLE);
  private rng: number;

  constructor(seed: number) {
    this.rng = seed >>> 0 || 1;
  }

  private next(): number {
    // xorshift32: deterministic, so calibration is repeatable.
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 4294967296;
  }

  observe(values: Float32Array): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      if (this.seen < SAMPLE) this.sample[this.seen] = v;
      else {
        const j = Math.floor(this.next() * (this.seen + 1));
        if (j < SAMPLE) this.sample[j] = v;
      }
      this.seen++;
    }
  }

  /** The sample actually held. */
  values(): Float32Array {
    return this.sample.subarray(0, Math.min(this.seen, SAMPLE));
  }

  /** [lo, hi] chosen by `method`. */
  range(method: RangeMethod): [number, number] {
    const lo = Math.min(this.min, 0);
    const hi = Math.max(this.max, 0);
    if (method === 'minmax' || this.seen === 0) return [lo, hi];
    const s = Float32Array.from(this.values()).sort();
    if (method === 'percentile') {
      const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!;
      return [Math.min(q(0.0001), 0), Math.max(q(0.9999), 0)];
    }
    return mseRange(s, lo, hi);
  }
}

/** Mean squared quantization error of the values `s` with int8 parameters for [lo, hi]. */
export function quantError(s: Float32Array, lo: number, hi: number): number {
  const p = paramsForRange(lo, hi);
  const qlo = (-128 - p.zeroPoint) * p.scale;
  const qhi = (127 - p.zeroPoint) * p.scale;
  let e = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    const d = v <= qlo ? v - qlo : v >= qhi ? v - qhi : v - p.scale * Math.round(v / p.scale);
    e += d * d;
  }
  return e / Math.max(1, s.length);
}

/**
 * Each end of [lo, hi] shrunk toward zero in 1 % steps (down to 20 %), by coordinate descent
 * (hi with lo fixed, then lo with hi fixed, twice), to the least quantization error of the sample.
 */
function mseRange(s: Float32Array, lo: number, hi: number): [number, number] {
  let best: [number, number] = [lo, hi];
  let bestErr = quantError(s, lo, hi);
  for (let round = 0; round < 2; round++) {
    for (const side of [1, 0] as const) {
      const end = side ? hi : lo;
      if (end === 0) continue;
      for (let f = 1; f >= 0.2; f -= 0.01) {
        const cand: [number, number] = side ? [best[0], end * f] : [end * f, best[1]];
        const e = quantError(s, cand[0], cand[1]);
        if (e < bestErr) {
          bestErr = e;
          best = cand;
        }
      }
    }
  }
  return best;
}

export interface CalibrationResult {
  observers: Map<string, RangeObserver>;
  images: number;
}

/** Runs the folded float graph on `idx` (no augmentation) and observes every quantized tensor. */
export async function observeActivations(net: FoldedNet, set: ImageSet, idx: readonly number[], batchSize: number, inputSize = set.imageSize): Promise<CalibrationResult> {
  const weights = uploadFolded(net);
  const observers = new Map<string, RangeObserver>();
  let seed = 1;
  try {
    for (let s = 0; s < idx.length; s += batchSize) {
      const b = idx.slice(s, s + batchSize);
      const seen: [string, Tensor][] = [];
      tidy(() =>
        noGrad(() => {
          const img = uploadImages(gatherImages(set, b), b.length, set.imageSize);
          const x = prepareBatch(img, identityParams(b.length, set.imageSize), b.length, set.imageSize, inputSize);
          floatGraphForward(net.plan, weights, x, {
            tap: (name, t) => {
              seen.push([name, keep(t)]);
              return t;
            },
          });
        }),
      );
      for (const [name, t] of seen) {
        let o = observers.get(name);
        if (!o) observers.set(name, (o = new RangeObserver(seed++)));
        o.observe((await t.toArray()) as Float32Array);
        t.release();
      }
    }
  } finally {
    releaseWeights(weights);
  }
  return { observers, images: idx.length };
}

/** int8 parameters of every observed tensor by `method` (the input always by min/max: its range is exact). */
export function activationParams(cal: CalibrationResult, method: RangeMethod): Map<string, QuantParams> {
  const out = new Map<string, QuantParams>();
  for (const [name, o] of cal.observers) {
    const [lo, hi] = o.range(name === 'input' ? 'minmax' : method);
    out.set(name, paramsForRange(lo, hi));
  }
  return out;
}
