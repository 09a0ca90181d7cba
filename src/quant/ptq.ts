/**
 * Post-training quantization end to end: fold BatchNorm, calibrate activation ranges on a few
 * hundred training images, quantize, and measure where accuracy goes (per-layer SQNR).
 */
import { noGrad } from '../autograd/graph.js';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import { identityParams, prepareBatch, uploadImages } from '../ops/augment.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { gatherImages, type ImageSet } from '../train/evaluate.js';
import { activationParams, DEFAULT_RANGE_METHOD, observeActivations, type RangeMethod } from './calibrate.js';
import { foldModel, type FoldedNet } from './fold.js';
import { floatGraphForward, releaseWeights, uploadFolded } from './float-graph.js';
import { Int8Model } from './int8-model.js';
import { activationNames } from './net-plan.js';
import { quantizeNet, type QuantizedNet } from './quantize.js';

/** Calibration images: the default count. */
export const DEFAULT_CALIBRATION_IMAGES = 300;

/**
 * Up to `count` indices from `pool`, spread over the classes (round-robin over a seeded shuffle
 * of each class), so a small calibration set still sees every class.
 */
export function pickCalibration(labels: Int32Array, pool: readonly number[], count: number, seed = 0): number[] {
  let s = (seed ^ 0x5bd1e995) >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const byClass = new Map<number, number[]>();
  for (const i of pool) {
    const c = labels[i]!;
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  const lists = [...byClass.keys()].sort((a, b) => a - b).map((c) => {
    const l = byClass.get(c)!;
    for (let i = l.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [l[i], l[j]] = [l[j]!, l[i]!];
    }
    return l;
  });
  const out: number[] = [];
  for (let r = 0; out.length < count && lists.some((l) => r < l.length); r++) for (const l of lists) if (r < l.length && out.length < count) out.push(l[r]!);
  return out;
}

export interface PtqOptions {
  method?: RangeMethod;
  batchSize?: number;
}

/** Folds, calibrates on `calibIdx` of `set` and quantizes a trained float model. */
export async function quantizeModel(model: MobileNetV3Small, set: ImageSet, calibIdx: readonly number[], o: PtqOptions = {}): Promise<{ net: QuantizedNet; folded: FoldedNet }> {
  const folded = await foldModel(model);
  const cal = await observeActivations(folded, set, calibIdx, o.batchSize ?? 32);
  return { net: quantizeNet(folded, activationParams(cal, o.method ?? DEFAULT_RANGE_METHOD)), folded };
}

/** Signal-to-quantization-noise ratio of one tensor: 10 log10(sum f^2 / sum (f - dequantized int8)^2). */
export interface LayerSqnr {
  name: string;
  sqnrDb: number;
  scale: number;
  zeroPoint: number;
}

/**
 * Per-tensor SQNR of the int8 model against the folded float graph on `idx`: each int8 tensor,
 * dequantized, against the float tensor at the same place (errors accumulate along the network,
 * so this shows where accuracy goes).
 */
export async function layerSqnr(folded: FoldedNet, int8: Int8Model, set: ImageSet, idx: readonly number[], batchSize = 32): Promise<LayerSqnr[]> {
  const names = activationNames(folded.plan);
  const signal = new Map<string, number>(names.map((n) => [n, 0]));
  const noise = new Map<string, number>(names.map((n) => [n, 0]));
  const weights = uploadFolded(folded);
  try {
    for (let s = 0; s < idx.length; s += batchSize) {
      const b = idx.slice(s, s + batchSize);
      const fl = new Map<string, Tensor>();
      const q = new Map<string, Tensor>();
      tidy(() =>
        noGrad(() => {
          const img = keep(uploadImages(gatherImages(set, b), b.length, set.imageSize));
          const x = prepareBatch(img, identityParams(b.length, set.imageSize), b.length, set.imageSize, set.imageSize);
          floatGraphForward(folded.plan, weights, x, { tap: (name, t) => (fl.set(name, keep(t)), t) });
          int8.logitsFromPixels(img, b.length, set.imageSize, (name, t) => q.set(name, keep(t)));
          img.release();
        }),
      );
      for (const name of names) {
        const f = fl.get(name);
        const t = q.get(name);
        if (!f || !t) continue;
        const fv = (await f.toArray()) as Float32Array;
        const qv = (await t.toArray()) as Int8Array;
        const p = int8.net.activations.get(name)!;
        const cf = f.shape[f.shape.length - 1]!;
        const cq = t.shape[t.shape.length - 1]!;
        let sig = 0;
        let err = 0;
        for (let i = 0; i < fv.length; i++) {
          const j = cf === cq ? i : Math.floor(i / cf) * cq + (i % cf);
          const d = fv[i]! - p.scale * (qv[j]! - p.zeroPoint);
          sig += fv[i]! * fv[i]!;
          err += d * d;
        }
        signal.set(name, signal.get(name)! + sig);
        noise.set(name, noise.get(name)! + err);
      }
      for (const t of [...fl.values(), ...q.values()]) t.release();
    }
  } finally {
    releaseWeights(weights);
  }
  // Pre-activation tensors live only inside the fused kernels (requantized, then looked up in
  // the table): there is no int8 tensor to compare.
  return names.filter((name) => signal.get(name)! > 0 || noise.get(name)! > 0).map((name) => {
    const p = int8.net.activations.get(name)!;
    const n = noise.get(name)!;
    return { name, sqnrDb: n > 0 ? 10 * Math.log10(signal.get(name)! / n) : Infinity, scale: p.scale, zeroPoint: p.zeroPoint };
  });
}
