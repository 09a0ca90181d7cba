/**
 * Fake quantization (QAT) kernels against float64 references: the per-tensor forward and its
 * straight-through gradient (a surrogate, so it is checked against its definition, not finite
 * differences: the true derivative of rounding is zero almost everywhere), and the per-channel
 * weight version against the quantizer's own per-channel int8 weights.
 */
import * as mg from '../../src/index.js';
import { fakeQuant, fakeQuantChannelsOp } from '../../src/quant/fake-quant.js';
import { quantizeWeights } from '../../src/quant/qparams.js';
import { cases, type Case } from '../support/cases.js';
import { CheckError, expectClose, randomData } from '../support/check.js';
import { roundEven } from '../support/int8-reference.js';

async function checkTensor(n: number, seed: number) {
  const scale = 0.037;
  const zp = -11;
  // float32 data: the reference sees exactly what the GPU sees.
  const x = Float32Array.from(randomData(n, seed, -6, 6));
  const g = Float32Array.from(randomData(n, seed + 1, -1, 1));
  const y = new Float64Array(n);
  const dx = new Float64Array(n);
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const q = roundEven(x[i]! / scale) + zp;
    y[i] = (Math.min(127, Math.max(-128, q)) - zp) * scale;
    const inside = q >= -128 && q <= 127;
    dx[i] = inside ? g[i]! : 0;
    if (!inside) clipped++;
  }
  if (clipped === 0 || clipped === n) throw new CheckError('fake quant case: the data must both clip and not clip');
  const tx = mg.tensor(x, [n], { requiresGrad: true });
  const ty = fakeQuant(tx, { scale, zeroPoint: zp });
  expectClose(await ty.toArray(), y, `fakeQuant forward n=${n}`, 0, 1e-6);
  const tg = mg.tensor(g, [n]);
  await ty.backward(tg);
  expectClose(await tx.grad!.toArray(), dx, `fakeQuant straight-through gradient n=${n}`, 0, 0);
  for (const t of [tx.grad!, tx, ty, tg]) t.release();
}

async function checkChannels(rows: number, c: number, seed: number) {
  const w = Float32Array.from(randomData(rows * c, seed, -0.7, 0.7));
  for (let i = 0; i < rows; i++) w[i * c] = 0; // a dead channel: scale 1, all zeros
  const { q, scale } = quantizeWeights(w, c);
  const want = Array.from(q, (v, i) => v * scale[i % c]!);
  const tw = mg.tensor(w, [rows, c], { requiresGrad: true });
  const ty = fakeQuantChannelsOp(tw, c);
  expectClose(await ty.toArray(), want, `fakeQuantChannels [${rows}, ${c}]`, 1e-6, 1e-7);
  const g = Float32Array.from(randomData(rows * c, seed + 1));
  const tg = mg.tensor(g, [rows, c]);
  await ty.backward(tg);
  expectClose(await tw.grad!.toArray(), g, `fakeQuantChannels gradient [${rows}, ${c}]`, 0, 0);
  for (const t of [tw.grad!, tw, ty, tg]) t.release();
}

const fakeQuantCases: Case[] = cases('int8 fake quant', [
  ['per tensor, 1001 values (clipping both ends)', () => checkTensor(1001, 5)],
  ['per tensor, 67 values', () => checkTensor(67, 9)],
  ['per channel [37, 13]', () => checkChannels(37, 13, 3)],
  ['per channel [3, 3, 5] -> 5 channels (depthwise layout)', () => checkChannels(9, 5, 7)],
]);
export default fakeQuantCases;
