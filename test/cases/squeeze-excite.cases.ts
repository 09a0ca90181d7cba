/**
 * squeezeExcite (src/ops/squeeze-excite.ts): the SE block as one autograd unit, x's gradient
 * written in one pass (shaders/squeeze-excite.wgsl), against float64 and finite differences.
 */
import * as mg from '../../src/index.js';
import { squeezeExcite, squeezeExciteGate } from '../../src/ops/squeeze-excite.js';
import { cases } from '../support/cases.js';
import { expectClose, expectThrows, expectTrue, prod, randomData } from '../support/check.js';

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const relu = (v: number) => Math.max(v, 0);
const hsig = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;

/** float64 SE block: forward and the gradients of x, w1, b1, w2, b2 for an output gradient g. */
function refSE(x: Float64Array, shape: number[], w1: Float64Array, b1: Float64Array, w2: Float64Array, b2: Float64Array, g: Float64Array) {
  const [n, h, w, c] = shape as [number, number, number, number];
  const r = b1.length;
  const hw = h * w;
  const pooled = new Float64Array(n * c);
  for (let i = 0; i < x.length; i++) pooled[Math.floor(i / (hw * c)) * c + (i % c)] += x[i]! / hw;
  const z1 = new Float64Array(n * r);
  const z2 = new Float64Array(n * c);
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < r; j++) { let s = b1[j]!; for (let k = 0; k < c; k++) s += pooled[b * c + k]! * w1[k * r + j]!; z1[b * r + j] = s; }
    for (let j = 0; j < c; j++) { let s = b2[j]!; for (let k = 0; k < r; k++) s += relu(z1[b * r + k]!) * w2[k * c + j]!; z2[b * c + j] = s; }
  }
  const gate = z2.map(hsig);
  const y = x.map((v, i) => v * gate[Math.floor(i / (hw * c)) * c + (i % c)]!);
  const dgate = new Float64Array(n * c);
  for (let i = 0; i < x.length; i++) dgate[Math.floor(i / (hw * c)) * c + (i % c)] += g[i]! * x[i]!;
  const d2 = dgate.map((v, i) => (z2[i]! > -3 && z2[i]! < 3 ? v / 6 : 0));
  const dw2 = new Float64Array(r * c), db2 = new Float64Array(c), dh = new Float64Array(n * r);
  for (let b = 0; b < n; b++) for (let k = 0; k < r; k++) for (let j = 0; j < c; j++) {
    dw2[k * c + j] += relu(z1[b * r + k]!) * d2[b * c + j]!;
    dh[b * r + k] += d2[b * c + j]! * w2[k * c + j]!;
  }
  for (let b = 0; b < n; b++) for (let j = 0; j < c; j++) db2[j] += d2[b * c + j]!;
  const d1 = dh.map((v, i) => (z1[i]! > 0 ? v : 0));
  const dw1 = new Float64Array(c * r), db1 = new Float64Array(r), dp = new Float64Array(n * c);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let j = 0; j < r; j++) {
    dw1[k * r + j] += pooled[b * c + k]! * d1[b * r + j]!;
    dp[b * c + k] += d1[b * r + j]! * w1[k * r + j]!;
  }
  for (let b = 0; b < n; b++) for (let j = 0; j < r; j++) db1[j] += d1[b * r + j]!;
  const dx = g.map((v, i) => { const q = Math.floor(i / (hw * c)) * c + (i % c); return v * gate[q]! + dp[q]! / hw; });
  return { y, dx, dw1, db1, dw2, db2, gate };
}

async function checkSE(shape: number[], r: number, seed: number): Promise<void> {
  const c = shape[3]!;
  const x = f32(randomData(prod(shape), seed, -2, 2));
  // Weights large enough that the pre-activations cross ReLU's and h-sigmoid's kinks.
  const w1 = f32(randomData(c * r, seed + 1, -2, 2)), b1 = f32(randomData(r, seed + 2));
  const w2 = f32(randomData(r * c, seed + 3, -2, 2)), b2 = f32(randomData(c, seed + 4));
  const g = f32(randomData(prod(shape), seed + 5));
  const want = refSE(x, shape, w1, b1, w2, b2, g);
  const t = { x: mg.tensor(x, shape, { requiresGrad: true }), w1: mg.tensor(w1, [c, r], { requiresGrad: true }), b1: mg.tensor(b1, [r], { requiresGrad: true }), w2: mg.tensor(w2, [r, c], { requiresGrad: true }), b2: mg.tensor(b2, [c], { requiresGrad: true }) };
  const y = squeezeExcite(t.x, (p) => mg.activation(mg.linear(mg.activation(mg.linear(p, t.w1, t.b1), 'relu'), t.w2, t.b2), 'hsigmoid'));
  const tag = `squeezeExcite [${shape}] r ${r}`;
  expectClose(await y.toArray(), want.y, `${tag} y`, 1e-5, 1e-5);
  await y.backward(mg.tensor(g, shape));
  expectClose(await t.x.grad!.toArray(), want.dx, `${tag} dx`, 1e-4, 1e-5);
  expectClose(await t.w1.grad!.toArray(), want.dw1, `${tag} dw1`, 1e-4, 1e-5);
  expectClose(await t.b1.grad!.toArray(), want.db1, `${tag} db1`, 1e-4, 1e-5);
  expectClose(await t.w2.grad!.toArray(), want.dw2, `${tag} dw2`, 1e-4, 1e-5);
  expectClose(await t.b2.grad!.toArray(), want.db2, `${tag} db2`, 1e-4, 1e-5);
  for (const v of Object.values(t)) { v.grad?.release(); v.release(); }
  y.release();
}

/** squeezeExciteGate (one kernel: pool, linear + ReLU, linear + h-sigmoid) against the float64 gate. */
async function checkGate(shape: number[], r: number, seed: number, wmax = 2): Promise<void> {
  const c = shape[3]!;
  const x = f32(randomData(prod(shape), seed, -2, 2));
  // wmax: weights in [-wmax, wmax]; wide layers take smaller ones (as an initialiser would), so
  // the pre-activations stay near the activations' kinks rather than summing to saturation.
  const w1 = f32(randomData(c * r, seed + 1, -wmax, wmax)), b1 = f32(randomData(r, seed + 2));
  const w2 = f32(randomData(r * c, seed + 3, -wmax, wmax)), b2 = f32(randomData(c, seed + 4));
  const want = refSE(x, shape, w1, b1, w2, b2, new Float64Array(x.length)).gate;
  const t = [mg.tensor(x, shape), mg.tensor(w1, [c, r]), mg.tensor(b1, [r]), mg.tensor(w2, [r, c]), mg.tensor(b2, [c])] as const;
  const gate = squeezeExciteGate(...t);
  expectClose(await gate.toArray(), want, `squeezeExciteGate [${shape}] S ${r}`, 1e-5, 1e-5);
  for (const v of [...t, gate]) v.release();
}

export default cases('squeezeExcite', [
  ['squeezeExciteGate vs float64: batch 1-3, fewer than 64 channel groups (positions dealt out) and more (whole columns, a partial round), one position, odd maps, the 1024-channel caches full', async () => {
    await checkGate([1, 5, 7, 16], 8, 110);
    await checkGate([2, 3, 3, 12], 4, 120);
    await checkGate([3, 1, 1, 8], 4, 130);
    await checkGate([1, 7, 7, 288], 72, 140);
    await checkGate([2, 5, 3, 260], 68, 150);
    await checkGate([1, 3, 5, 1024], 1024, 160, 0.25);
  }],
  ['squeezeExciteGate refuses what it cannot compute, naming the problem', async () => {
    const x = mg.tensor(f32(randomData(2 * 3 * 3 * 8, 170)), [2, 3, 3, 8]);
    const w = (shape: number[], seed: number, grad = false) => mg.tensor(f32(randomData(prod(shape), seed)), shape, { requiresGrad: grad });
    const [w1, b1, w2, b2] = [w([8, 4], 171), w([4], 172), w([4, 8], 173), w([8], 174)];
    const w1g = w([8, 4], 175, true);
    await expectThrows(() => squeezeExciteGate(x, w1g, b1, w2, b2), 'gate with a weight that needs a gradient', 'forward-only');
    const x6 = mg.tensor(f32(randomData(2 * 3 * 3 * 6, 176)), [2, 3, 3, 6]);
    await expectThrows(() => squeezeExciteGate(x6, w([6, 4], 177), b1, w([4, 6], 178), w([6], 179)), 'gate with 6 channels', 'multiples of 4');
    await expectThrows(() => squeezeExciteGate(x, w2, b1, w2, b2), 'gate with w1 and w2 swapped', 'expected w1 [C, S]');
    for (const t of [x, w1, b1, w2, b2, w1g, x6]) t.release();
  }],
  ['forward and every gradient vs float64: batch 1, odd spatial, C off fours (scalar) and in fours (vec4), long spatial runs', async () => {
    await checkSE([1, 5, 7, 3], 2, 10);
    await checkSE([2, 3, 3, 12], 4, 20);
    await checkSE([3, 1, 1, 8], 2, 30);
    await checkSE([2, 40, 41, 16], 8, 40);
    await checkSE([2, 7, 7, 20], 5, 50);
  }],
  ['the backward writes x\'s gradient in one pass: two dispatches fewer than the separate ops (pool broadcast, sum)', async () => {
    const shape = [2, 6, 5, 8];
    const x = f32(randomData(prod(shape), 70, -2, 2));
    const w1 = mg.tensor(f32(randomData(16, 71)), [8, 2]);
    const w2 = mg.tensor(f32(randomData(16, 72)), [2, 8]);
    const g = mg.tensor(f32(randomData(prod(shape), 73)), shape);
    const gateOf = (p: mg.Tensor) => mg.activation(mg.linear(mg.activation(mg.linear(p, w1), 'relu'), w2), 'hsigmoid');
    const backwardDispatches = async (fused: boolean) => {
      const tx = mg.tensor(x, shape, { requiresGrad: true });
      const y = fused ? squeezeExcite(tx, gateOf) : mg.mul(tx, mg.reshape(gateOf(mg.globalAvgPool(tx)), [2, 1, 1, 8]));
      const before = mg.getDevice().dispatcher.counters.dispatches;
      await y.backward(g);
      const n = mg.getDevice().dispatcher.counters.dispatches - before;
      const dx = await tx.grad!.toArray();
      [tx, tx.grad!, y].forEach((t) => t.release());
      return { n, dx };
    };
    const sep = await backwardDispatches(false);
    const one = await backwardDispatches(true);
    expectTrue(one.n <= sep.n - 2, `fused backward ${one.n} dispatches, separate ${sep.n}`);
    expectClose(one.dx, sep.dx, 'fused and separate dx agree', 1e-5, 1e-6);
    [w1, w2, g].forEach((t) => t.release());
  }],
  ['gradcheck through the fused op; a gate not computed from the pool; backward from the gate alone', async () => {
    const shape = [2, 3, 2, 4];
    const x = mg.tensor(f32(randomData(prod(shape), 60, -2, 2)), shape);
    const w1 = mg.tensor(f32(randomData(8, 61)), [4, 2]);
    const w2 = mg.tensor(f32(randomData(8, 62)), [2, 4]);
    await mg.gradcheck((a, p, q) => squeezeExcite(a, (pl) => mg.activation(mg.linear(mg.activation(mg.linear(pl, p), 'relu'), q), 'hsigmoid')), [x, w1, w2]);
    // A gate that ignores the pool: x's gradient is g * gate alone (the scale gives it).
    const other = mg.tensor(f32(randomData(2 * 4, 63, 0.1, 0.9)), [2, 4], { requiresGrad: true });
    const tx = mg.tensor(f32(randomData(prod(shape), 64)), shape, { requiresGrad: true });
    const y = squeezeExcite(tx, () => mg.mul(other, 1));
    const g = f32(randomData(prod(shape), 65));
    await y.backward(mg.tensor(g, shape));
    const gate = await other.toArray();
    expectClose(await tx.grad!.toArray(), g.map((v, i) => v * gate[Math.floor(i / 24) * 4 + (i % 4)]!), 'gate not from the pool: dx', 1e-6, 1e-6);
    // Backward from the gate: x gets the pool's own gradient, dgate / (H*W) everywhere.
    const tx2 = mg.tensor(f32(randomData(prod(shape), 66)), shape, { requiresGrad: true });
    let gateT: mg.Tensor | null = null;
    squeezeExcite(tx2, (p) => (gateT = mg.mul(p, 2)));
    const dg = f32(randomData(8, 67));
    await gateT!.backward(mg.tensor(dg, [2, 4]));
    expectClose(await tx2.grad!.toArray(), Array.from({ length: prod(shape) }, (_, i) => (2 * dg[Math.floor(i / 24) * 4 + (i % 4)]!) / 6), 'backward from the gate: dx', 1e-6, 1e-6);
    for (const t of [x, w1, w2, other, tx, tx2, tx.grad!, tx2.grad!, other.grad!]) t.release();
  }],
]);
