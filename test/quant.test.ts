/**
 * Post-training quantization pieces on a model with random weights and random BatchNorm
 * statistics: BatchNorm folding (the folded float graph gives the model's own logits), the int8
 * model against the folded float graph, the int8 model file (round trip to identical answers,
 * size at 20 classes), calibration range methods, and the input table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { Int8Model } from '../src/quant/int8-model.js';
import { activationParams, observeActivations, quantError, RangeObserver } from '../src/quant/calibrate.js';
import { foldModel } from '../src/quant/fold.js';
import { floatGraphForward, releaseWeights, uploadFolded } from '../src/quant/float-graph.js';
import { decodeInt8Weights, encodeInt8Weights } from '../src/quant/int8-format.js';
import { inputTable, activationTable } from '../src/quant/kernel-params.js';
import { activationNames } from '../src/quant/net-plan.js';
import { paramsForRange, quantizeWeights } from '../src/quant/qparams.js';
import { quantizeNet } from '../src/quant/quantize.js';
import { argmaxRows } from '../src/quant/compare.js';
import { dropPoints } from '../src/quant/pipeline.js';
import type { ImageSet } from '../src/train/evaluate.js';

const SIZE = 40;

/** Random images with structure (smooth colour ramps plus noise), so activations are not degenerate. */
function randomImages(n: number, seed: number): ImageSet {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  const images = new Uint8Array(n * SIZE * SIZE * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    const a = rnd() * 4;
    const b = rnd() * 4;
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++)
        for (let c = 0; c < 3; c++) images[((i * SIZE + y) * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, 128 + 90 * Math.sin(a * x / SIZE + b * y / SIZE + c) + 40 * (rnd() - 0.5)));
  }
  return { images, labels, imageSize: SIZE };
}

/** A model whose BatchNorms have non-trivial statistics and affine parameters. */
function randomModel(numClasses: number): mg.models.MobileNetV3Small {
  mg.seed(11);
  const model = mg.models.mobilenetV3Small({ numClasses });
  let s = 5;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  for (const [name, t] of model.stateTensors()) {
    const v = (f: () => number) => model.loadTensor(name, Float32Array.from({ length: t.size }, f));
    if (name.endsWith('running_mean')) v(() => (rnd() - 0.5) * 0.2);
    else if (name.endsWith('running_var')) v(() => 0.5 + rnd());
    else if (/\.1\.weight$/.test(name)) v(() => 0.6 + 0.8 * rnd());
    else if (/\.1\.bias$/.test(name)) v(() => (rnd() - 0.5) * 0.4);
    else if (name.startsWith('classifier') && name.endsWith('weight')) v(() => (rnd() - 0.5) * 0.1);
  }
  model.eval();
  return model;
}

async function floatLogits(model: mg.models.MobileNetV3Small, set: ImageSet): Promise<Float32Array> {
  const n = set.labels.length;
  const y = mg.tidy(() => mg.noGrad(() => {
    const img = mg.uploadImages(set.images, n, SIZE);
    return model.call(mg.prepareBatch(img, mg.identityParams(n, SIZE), n, SIZE, SIZE));
  }));
  const out = (await y.toArray()) as Float32Array;
  y.release();
  return out;
}

let model: mg.models.MobileNetV3Small;
let set: ImageSet;

beforeAll(async () => {
  await mg.init();
  model = randomModel(5);
  set = randomImages(24, 3);
});

describe('post-training quantization', () => {
  it('folding BatchNorm into the convolutions keeps the logits (float32 rounding only)', async () => {
    const want = await floatLogits(model, set);
    const folded = await foldModel(model);
    const w = uploadFolded(folded);
    const y = mg.tidy(() => mg.noGrad(() => {
      const img = mg.uploadImages(set.images, 24, SIZE);
      return floatGraphForward(folded.plan, w, mg.prepareBatch(img, mg.identityParams(24, SIZE), 24, SIZE, SIZE));
    }));
    const got = (await y.toArray()) as Float32Array;
    y.release();
    releaseWeights(w);
    let scale = 0;
    for (const v of want) scale = Math.max(scale, Math.abs(v));
    expect(scale).toBeGreaterThan(1e-3);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 * scale + 1e-6);
  });

  it('the int8 model follows the folded float graph (logits close, same top-1 on most images), and its file round-trips exactly', async () => {
    const folded = await foldModel(model);
    const idx = [...Array(24).keys()];
    const cal = await observeActivations(folded, set, idx.slice(0, 16), 8);
    expect([...cal.observers.keys()].sort()).toEqual(activationNames(folded.plan).sort());
    const net = quantizeNet(folded, activationParams(cal, 'mse'));
    const int8 = new Int8Model(net);
    const q = await int8.logitsFromBytes(set.images, 24, SIZE).toArray();
    const f = await floatLogits(model, set);
    let num = 0;
    let den = 0;
    for (let i = 0; i < f.length; i++) {
      num += (q[i]! - f[i]!) ** 2;
      den += f[i]! ** 2;
    }
    expect(10 * Math.log10(den / num)).toBeGreaterThan(12); // logits SQNR in dB
    const agree = argmaxRows(q, 5).filter((c, i) => c === argmaxRows(f, 5)[i]).length;
    expect(agree).toBeGreaterThanOrEqual(18);

    const { weights, info } = encodeInt8Weights(net, { method: 'mse', images: 16 });
    const back = decodeInt8Weights(weights, JSON.parse(JSON.stringify(info)), { numClasses: 5, widthMultiplier: 1 });
    for (const [name, l] of net.layers) {
      const b = back.layers.get(name)!;
      expect(Buffer.from(b.weight.buffer).equals(Buffer.from(l.weight.buffer)), name).toBe(true);
      expect([...b.weightScale]).toEqual([...l.weightScale]);
      expect([...b.bias]).toEqual([...l.bias]);
    }
    for (const [name, p] of net.activations) expect(back.activations.get(name), name).toEqual(p);
    const int8b = new Int8Model(back);
    const q2 = await int8b.logitsFromBytes(set.images, 24, SIZE).toArray();
    expect([...q2]).toEqual([...q]);
    int8.release();
    int8b.release();
  });

  it('the int8 model file weighs at most 1.7 MB at 20 classes', async () => {
    const m20 = randomModel(20);
    const folded = await foldModel(m20);
    const acts = new Map(activationNames(folded.plan).map((n) => [n, paramsForRange(-3, 5)]));
    const { weights } = encodeInt8Weights(quantizeNet(folded, acts));
    m20.release();
    expect(weights.byteLength).toBeLessThanOrEqual(1.7e6);
    expect(weights.byteLength).toBeGreaterThan(1.4e6); // really holds the ~1.5 M int8 weights
  });
});

describe('quantization parameters', () => {
  it('activation ranges include zero, cover the range, and round-trip their extremes', () => {
    const p = paramsForRange(-1.5, 4.2);
    expect((-128 - p.zeroPoint) * p.scale).toBeLessThanOrEqual(-1.5 + p.scale);
    expect((127 - p.zeroPoint) * p.scale).toBeGreaterThanOrEqual(4.2 - p.scale);
    const r = paramsForRange(0.5, 3); // widened to include 0: zero is exact
    expect(r.zeroPoint).toBe(-128);
  });

  it('weights: symmetric per channel, the largest magnitude maps to 127', () => {
    const w = Float32Array.from([0.6, -0.1, -1.0, 0.25, 0.25, 0.01]); // 2 channels, channel innermost
    const { q, scale } = quantizeWeights(w, 2);
    expect([...q]).toEqual([76, -51, -127, 127, 32, 5]);
    expect(scale[0]).toBeCloseTo(1 / 127, 7);
    expect(scale[1]).toBeCloseTo(0.25 / 127, 9);
  });

  it('range methods: percentile clips a rare outlier that min/max keeps; MSE errs least', () => {
    const o = new RangeObserver(3);
    const v = new Float32Array(20000);
    for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37) * 2;
    v[77] = 12; // a rare outlier
    o.observe(v);
    const [mlo, mhi] = o.range('minmax');
    expect(mhi).toBe(12);
    expect(mlo).toBeCloseTo(-2, 3);
    const [plo, phi] = o.range('percentile');
    expect(phi).toBeLessThan(2.01);
    const [lo, hi] = o.range('mse');
    const err = (r: [number, number]) => quantError(o.values(), r[0], r[1]);
    expect(err([lo, hi])).toBeLessThanOrEqual(err([mlo, mhi]));
    expect(err([lo, hi])).toBeLessThanOrEqual(err([plo, phi]));
  });

  it('the input table equals quantizing the normalised pixel; activation tables apply the function', () => {
    const p = paramsForRange(-2.1179, 2.64);
    const t = inputTable(p);
    for (const [c, v] of [[0, 0], [1, 128], [2, 255], [0, 77]] as const) {
      const x = (v / 255 - [0.485, 0.456, 0.406][c]!) / [0.229, 0.224, 0.225][c]!;
      expect(Math.abs(t[c * 256 + v]! - (Math.round(x / p.scale) + p.zeroPoint))).toBeLessThanOrEqual(0);
    }
    const pre = paramsForRange(-6, 6);
    const out = paramsForRange(-0.4, 6);
    const hs = activationTable('hswish', pre, out);
    for (let q = -128; q < 128; q += 17) {
      const x = pre.scale * (q - pre.zeroPoint);
      const y = (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
      expect(hs[q + 128]).toBe(Math.max(-128, Math.min(127, Math.round(y / out.scale) + out.zeroPoint)));
    }
  });
});

describe('the accuracy-drop check', () => {
  it('accepts a drop of exactly the tolerance (no floating-point excess) and refuses one image more', () => {
    expect(100 * (0.616 - 0.606)).toBeGreaterThan(1); // why dropPoints rounds
    expect(dropPoints({ accuracyA: 0.616, accuracyB: 0.606 })).toBe(1);
    expect(dropPoints({ accuracyA: 0.616, accuracyB: 0.605 })).toBeCloseTo(1.1, 9);
    expect(dropPoints({ accuracyA: 0.5, accuracyB: 0.75 })).toBe(-25);
  });
});
