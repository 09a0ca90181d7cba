/**
 * The whole int8 MobileNetV3-Small on the GPU against the whole network on the CPU
 * (test/support/int8-net-reference.ts), on both int8 code paths: a float model with random
 * weights and BatchNorm statistics, folded, calibrated on structured random images and
 * quantized, in Node and in Chromium alike (fold, calibration and the int8 runner are library code).
 */
import * as mg from '../../src/index.js';
import { setInt8Path } from '../../kernels/int8-path.js';
import { activationParams, observeActivations } from '../../src/quant/calibrate.js';
import { foldModel } from '../../src/quant/fold.js';
import { Int8Model } from '../../src/quant/int8-model.js';
import { quantizeNet } from '../../src/quant/quantize.js';
import { cases, type Case } from '../support/cases.js';
import { CheckError, expectTrue } from '../support/check.js';
import { int8NetReference } from '../support/int8-net-reference.js';

const SIZE = 32;

function images(n: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  const out = new Uint8Array(n * SIZE * SIZE * 3);
  for (let i = 0; i < n; i++) {
    const a = 1 + rnd() * 5;
    const b = 1 + rnd() * 5;
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++)
        for (let c = 0; c < 3; c++) out[((i * SIZE + y) * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(128 + 100 * Math.sin((a * x + b * y) / SIZE + 2 * c) + 30 * (rnd() - 0.5))));
  }
  return out;
}

async function quantizedRandomNet(width: number) {
  mg.seed(21);
  const model = mg.models.mobilenetV3Small({ numClasses: 7, widthMultiplier: width });
  let s = 9;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
  for (const [name, t] of model.stateTensors()) {
    const v = (f: () => number) => model.loadTensor(name, Float32Array.from({ length: t.size }, f));
    if (name.endsWith('running_mean')) v(() => (rnd() - 0.5) * 0.2);
    else if (name.endsWith('running_var')) v(() => 0.5 + rnd());
    else if (/\.1\.bias$/.test(name)) v(() => (rnd() - 0.5) * 0.4);
    else if (name.startsWith('classifier') && name.endsWith('weight')) v(() => (rnd() - 0.5) * 0.1);
  }
  model.eval();
  const folded = await foldModel(model);
  model.release();
  const calib = images(8, 5);
  const set = { images: calib, labels: new Int32Array(8), imageSize: SIZE };
  const cal = await observeActivations(folded, set, [...Array(8).keys()], 8);
  return quantizeNet(folded, activationParams(cal, 'percentile'));
}

async function checkNet(width: number, path: 'auto' | 'fallback') {
  const net = await quantizedRandomNet(width);
  const n = 3;
  const bytes = images(n, 77);
  const want = int8NetReference(net, bytes, n, SIZE);
  setInt8Path(path === 'auto' ? null : 'fallback');
  const int8 = new Int8Model(net);
  try {
    const y = int8.logitsFromBytes(bytes, n, SIZE);
    const got = (await y.toArray()) as Float32Array;
    y.release();
    let scale = 0;
    let same = 0;
    for (let i = 0; i < want.length; i++) {
      scale = Math.max(scale, Math.abs(want[i]!));
      if (got[i] === want[i]) same++;
    }
    expectTrue(scale > 0, 'the reference logits are not all zero');
    // Bit for bit, unless a fused multiply-add in the residual epilogue rounded one value
    // differently (documented); then the logits stay within a few quantization steps.
    if (same !== want.length) {
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(got[i]! - want[i]!) <= 0.05 * scale)) throw new CheckError(`int8 network width ${width} (${path}): logit ${i} is ${got[i]}, CPU reference ${want[i]}`);
      }
    }
  } finally {
    int8.release();
    setInt8Path(null);
  }
}

const int8ModelCases: Case[] = cases('int8 network', [
  ['MobileNetV3-Small width 0.5 at 32 px, GPU = CPU reference (adapter\'s path)', () => checkNet(0.5, 'auto')],
  ['MobileNetV3-Small width 0.5 at 32 px, GPU = CPU reference (forced fallback)', () => checkNet(0.5, 'fallback')],
]);
export default int8ModelCases;
