import * as mg from '../../src/index.js';
import { setBatchNormPath, setBatchNormSlices } from '../../src/ops/batchnorm.js';
import { cases } from '../support/cases.js';
import { expectClose, expectTrue, prod, randomAwayFrom, randomData } from '../support/check.js';

type Act = 'identity' | 'relu' | 'relu6' | 'hswish' | 'hsigmoid';
const act: Record<Act, (v: number) => number> = {
  identity: (v) => v,
  relu: (v) => Math.max(v, 0),
  relu6: (v) => Math.min(Math.max(v, 0), 6),
  hswish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
  hsigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
};
const dact: Record<Act, (v: number) => number> = {
  identity: () => 1,
  relu: (v) => (v > 0 ? 1 : 0),
  relu6: (v) => (v > 0 && v < 6 ? 1 : 0),
  hswish: (v) => (v < -3 ? 0 : v > 3 ? 1 : (2 * v + 3) / 6),
  hsigmoid: (v) => (v > -3 && v < 3 ? 1 / 6 : 0),
};

/** Values as the GPU sees them (float32), kept in float64 for the references. */
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

/** Channels with different means and scales: x[m, c] = mean_c + scale_c * u, u uniform in [-1, 1]. */
function channelData(shape: number[], seed: number, meanSpread = 3, scaleLo = 0.3, scaleHi = 2.5): Float64Array {
  const c = shape[shape.length - 1]!;
  const u = randomData(prod(shape), seed);
  const means = randomData(c, seed + 1, -meanSpread, meanSpread);
  const scales = randomData(c, seed + 2, scaleLo, scaleHi);
  return f32(u.map((v, i) => means[i % c]! + scales[i % c]! * v));
}

interface Ref {
  y: Float64Array;
  mean: Float64Array;
  invstd: Float64Array;
  runMean: Float64Array;
  runVar: Float64Array;
}

/** float64 batch norm: two-pass statistics, PyTorch's running update with the unbiased variance. */
function refForward(x: Float64Array, c: number, gamma: Float64Array, beta: Float64Array, rm: Float64Array, rv: Float64Array,
  training: boolean, momentum: number, eps: number, a: Act): Ref {
  const m = x.length / c;
  const mean = new Float64Array(c);
  const varB = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i]! / m;
  for (let i = 0; i < x.length; i++) varB[i % c] += (x[i]! - mean[i % c]!) ** 2 / m;
  const runMean = Float64Array.from(rm);
  const runVar = Float64Array.from(rv);
  const useMean = training ? mean : rm;
  const useVar = training ? varB : rv;
  if (training) {
    for (let k = 0; k < c; k++) {
      runMean[k] = (1 - momentum) * rm[k]! + momentum * mean[k]!;
      runVar[k] = (1 - momentum) * rv[k]! + momentum * varB[k]! * m / (m - 1);
    }
  }
  const invstd = useVar.map((v) => 1 / Math.sqrt(v + eps));
  const y = x.map((v, i) => act[a](((v - useMean[i % c]!) * invstd[i % c]!) * gamma[i % c]! + beta[i % c]!));
  return { y, mean: Float64Array.from(useMean), invstd, runMean, runVar };
}

/** float64 gradients of batch norm for an output gradient dy. */
function refBackward(x: Float64Array, dy: Float64Array, c: number, gamma: Float64Array, beta: Float64Array, r: Ref, training: boolean, a: Act) {
  const m = x.length / c;
  const xhat = x.map((v, i) => (v - r.mean[i % c]!) * r.invstd[i % c]!);
  const dz = dy.map((v, i) => v * dact[a](xhat[i]! * gamma[i % c]! + beta[i % c]!));
  const dbeta = new Float64Array(c);
  const dgamma = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    dbeta[i % c] += dz[i]!;
    dgamma[i % c] += dz[i]! * xhat[i]!;
  }
  const dx = dz.map((v, i) => {
    const k = i % c;
    const inner = training ? v - (dbeta[k]! + xhat[i]! * dgamma[k]!) / m : v;
    return gamma[k]! * r.invstd[k]! * inner;
  });
  return { dx, dgamma, dbeta };
}

/** Relative-to-scale tolerance: gradients summed over many rows carry float32 rounding of that size. */
function scaleOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(a[i]!));
  return s;
}

interface Setup {
  shape: number[];
  seed: number;
  act?: Act;
  momentum?: number;
  eps?: number;
  meanSpread?: number;
  scaleLo?: number;
  scaleHi?: number;
}

/** Runs training then eval forward/backward on `s` and checks everything against float64. */
async function checkAgainstReference(s: Setup): Promise<void> {
  const { shape, seed } = s;
  const a = s.act ?? 'identity';
  const momentum = s.momentum ?? 0.01;
  const eps = s.eps ?? 1e-3;
  const c = shape[shape.length - 1]!;
  const x = channelData(shape, seed, s.meanSpread, s.scaleLo, s.scaleHi);
  const gamma = f32(randomData(c, seed + 10, 0.5, 1.5));
  const beta = f32(randomData(c, seed + 11, -0.5, 0.5));
  const rm0 = f32(randomData(c, seed + 12, -0.2, 0.2));
  const rv0 = f32(randomData(c, seed + 13, 0.5, 2));
  const dy = f32(randomData(prod(shape), seed + 14));
  const tag = `[${shape}]${a === 'identity' ? '' : ` + ${a}`}`;
  const opts = { ...(s.momentum === undefined ? {} : { momentum }), ...(s.eps === undefined ? {} : { eps }), ...(a === 'identity' ? {} : { activation: a }) };

  const running = { mean: mg.tensor(rm0, [c]), var: mg.tensor(rv0, [c]) };
  for (const training of [true, false]) {
    const mode = training ? 'training' : 'eval';
    const rmNow = Float64Array.from(await running.mean.toArray());
    const rvNow = Float64Array.from(await running.var.toArray());
    const tx = mg.tensor(x, shape, { requiresGrad: true });
    const tg = mg.tensor(gamma, [c], { requiresGrad: true });
    const tb = mg.tensor(beta, [c], { requiresGrad: true });
    const ref = refForward(x, c, gamma, beta, rmNow, rvNow, training, momentum, eps, a);
    const y = mg.batchNorm(tx, tg, tb, running, { training, ...opts });
    expectClose(await y.toArray(), ref.y, `${tag} ${mode} y`, 1e-4, 1e-4);
    expectClose(await running.mean.toArray(), ref.runMean, `${tag} ${mode} running mean`, 1e-5, 1e-6);
    expectClose(await running.var.toArray(), ref.runVar, `${tag} ${mode} running var (unbiased)`, 1e-5, 1e-6);
    const tdy = mg.tensor(dy, shape);
    await y.backward(tdy);
    const want = refBackward(x, dy, c, gamma, beta, ref, training, a);
    // Sums over M rows: compare against the size of the result, not element by element only.
    expectClose(await tx.grad!.toArray(), want.dx, `${tag} ${mode} dx`, 1e-3, 2e-4 * scaleOf(want.dx));
    expectClose(await tg.grad!.toArray(), want.dgamma, `${tag} ${mode} dgamma`, 1e-4, 1e-5 * Math.sqrt(x.length / c) * scaleOf(want.dgamma));
    expectClose(await tb.grad!.toArray(), want.dbeta, `${tag} ${mode} dbeta`, 1e-4, 1e-5 * Math.sqrt(x.length / c) * scaleOf(want.dbeta));
    [tx.grad!, tg.grad!, tb.grad!, tx, tg, tb, tdy, y].forEach((t) => t.release());
  }
  running.mean.release();
  running.var.release();
}

async function gradcheckBN(shape: number[], training: boolean, seed: number, a: Act = 'identity'): Promise<void> {
  const c = shape[shape.length - 1]!;
  const x = a === 'identity' ? channelData(shape, seed, 2, 0.6, 2) : f32(randomAwayFrom(prod(shape), seed, [-3, 0, 3], 0.15, -4, 4));
  const tx = mg.tensor(x, shape);
  const tg = mg.tensor(randomData(c, seed + 1, 0.5, 1.5), [c]);
  const tb = mg.tensor(randomData(c, seed + 2, -0.3, 0.3), [c]);
  const running = { mean: mg.tensor(randomData(c, seed + 3, -0.5, 0.5), [c]), var: mg.tensor(randomData(c, seed + 4, 0.5, 2), [c]) };
  await mg.gradcheck((p, q, r) => mg.batchNorm(p, q, r, running, { training, ...(a === 'identity' ? {} : { activation: a }) }), [tx, tg, tb]);
  [tx, tg, tb, running.mean, running.var].forEach((t) => t.release());
}

/**
 * Runs `fn` with training BatchNorm on one path, whatever the size and adapter would pick: the
 * two-stage kernels, the one-dispatch kernels with workgroup reductions (GPUs, small M), or the
 * serial ones (CPU adapters, small M).
 */
async function onPath<T>(path: Path, fn: () => Promise<T>, slices = 4): Promise<T> {
  const old = setBatchNormPath(path === 'sliced' ? 'serial' : path);
  // 'serial': the plain serial kernels; 'sliced': `slices` lanes per channel group (capped at the
  // subgroup size; adapters without a fixed one run the plain kernels).
  const oldSlices = setBatchNormSlices(path === 'sliced' ? slices : path === 'serial' ? 1 : null);
  try {
    return await fn();
  } finally {
    setBatchNormPath(old);
    setBatchNormSlices(oldSlices);
  }
}
type Path = 'two-stage' | 'workgroup' | 'serial' | 'sliced';
const paths = ['two-stage', 'workgroup', 'serial', 'sliced'] as const;

/** Large M = 8*112*112 rows, and data with |mean| >> std: float32 statistics stay accurate. */
async function largeAndOffset(): Promise<void> {
  // Then mean ~100, std ~0.05: E[x^2] - E[x]^2 in float32 would lose the variance entirely.
  await checkAgainstReference({ shape: [8, 112, 112, 3], seed: 8, momentum: 0.5 });
  const shape = [8, 112, 112, 3];
  const x = f32(channelData(shape, 9, 0, 0.05, 0.1).map((v) => v + 100));
  const c = 3;
  const running = { mean: mg.zeros([c]), var: mg.ones([c]) };
  const tx = mg.tensor(x, shape);
  const g = mg.ones([c]);
  const b = mg.zeros([c]);
  const y = mg.batchNorm(tx, g, b, running, { training: true, momentum: 1 });
  const ref = refForward(x, c, new Float64Array(c).fill(1), new Float64Array(c), new Float64Array(c), new Float64Array(c).fill(1), true, 1, 1e-3, 'identity');
  expectClose(await running.mean.toArray(), ref.runMean, 'offset data: batch mean', 1e-6, 0);
  expectClose(await running.var.toArray(), ref.runVar, 'offset data: batch variance', 2e-3, 0);
  expectClose(await y.toArray(), ref.y, 'offset data: y', 1e-3, 2e-3);
  [running.mean, running.var, tx, g, b, y].forEach((t) => t.release());
}

/** Running statistics accumulate over steps; eval uses them; noGrad records nothing. */
async function accumulate(): Promise<void> {
  const shape = [2, 3, 3, 5];
  const c = 5;
  let rm: Float64Array = new Float64Array(c);
  let rv: Float64Array = new Float64Array(c).fill(1);
  const running = { mean: mg.zeros([c]), var: mg.ones([c]) };
  const gamma = f32(randomData(c, 40, 0.5, 1.5));
  const beta = f32(randomData(c, 41, -1, 1));
  const tg = mg.tensor(gamma, [c], { requiresGrad: true });
  const tb = mg.tensor(beta, [c], { requiresGrad: true });
  for (let step = 0; step < 3; step++) {
    const x = channelData(shape, 50 + step);
    const tx = mg.tensor(x, shape);
    const y = mg.noGrad(() => mg.batchNorm(tx, tg, tb, running, { training: true, momentum: 0.3 }));
    expectTrue(y.gradFn === null && !y.requiresGrad, 'noGrad: batchNorm recorded a graph node');
    const ref = refForward(x, c, gamma, beta, rm, rv, true, 0.3, 1e-3, 'identity');
    expectClose(await y.toArray(), ref.y, `step ${step} y`, 1e-4, 1e-4);
    rm = ref.runMean;
    rv = ref.runVar;
    expectClose(await running.mean.toArray(), rm, `step ${step} running mean`, 1e-5, 1e-6);
    expectClose(await running.var.toArray(), rv, `step ${step} running var`, 1e-5, 1e-6);
    tx.release();
    y.release();
  }
  const x = channelData(shape, 60);
  const tx = mg.tensor(x, shape);
  const before = [await running.mean.toArray(), await running.var.toArray()];
  const y = mg.batchNorm(tx, tg, tb, running, { training: false });
  expectTrue(y.requiresGrad, 'eval batchNorm with trainable gamma records a node');
  expectClose(await y.toArray(), refForward(x, c, gamma, beta, rm, rv, false, 0, 1e-3, 'identity').y, 'eval y', 1e-4, 1e-4);
  expectClose(await running.mean.toArray(), before[0]!, 'eval leaves running mean', 0, 0);
  expectClose(await running.var.toArray(), before[1]!, 'eval leaves running var', 0, 0);
  [tx, y, tg, tb, running.mean, running.var].forEach((t) => t.release());
}

/** Finite differences: training and eval, [N,H,W,C] and [N,C], fused h-swish, scalar and vec4 kernels. */
async function gradchecks(): Promise<void> {
  await gradcheckBN([1, 3, 5, 3], true, 70);
  await gradcheckBN([2, 2, 3, 7], true, 71);
  await gradcheckBN([9, 4], true, 72);
  await gradcheckBN([1, 3, 5, 3], false, 73);
  await gradcheckBN([6, 5], false, 74);
  await gradcheckBN([2, 3, 3, 3], true, 75, 'hswish');
  // vec4 kernels
  await gradcheckBN([2, 2, 3, 8], true, 76, 'hswish');
  await gradcheckBN([6, 4], false, 77, 'relu');
  await gradcheckBN([3, 2, 2, 4], true, 78);
}

export default cases('batchnorm', [
  ...([
    { shape: [1, 5, 7, 3], seed: 1 }, // batch 1, odd spatial, C = 3
    { shape: [6, 13], seed: 2 }, // 2-D [N, C]
    { shape: [2, 5, 7, 7], seed: 3, momentum: 0.1, eps: 1e-5 },
    { shape: [3, 4, 4, 13], seed: 4, act: 'hswish' },
    { shape: [2, 3, 5, 7], seed: 5, act: 'relu' },
    { shape: [4, 61, 67, 5], seed: 6 }, // M = 16348: many splits in the two-stage reduction
    { shape: [2, 9, 11, 130], seed: 7, act: 'relu6' }, // more channels than a workgroup
    // C % 4 == 0 takes the vec4 kernels (kernels/vec.ts): every activation, long and short M.
    { shape: [2, 5, 7, 8], seed: 20, act: 'hswish' },
    { shape: [3, 4, 4, 16], seed: 21, act: 'relu' },
    { shape: [2, 3, 3, 12], seed: 22, act: 'hsigmoid' },
    { shape: [1, 3, 5, 4], seed: 23, act: 'relu6' },
    { shape: [5, 36], seed: 24 },
    { shape: [4, 61, 67, 16], seed: 25, act: 'hswish' }, // many splits, rows not a multiple of the row block
    { shape: [2, 7, 7, 296], seed: 26, act: 'hswish' }, // more channel groups than a workgroup
  ] as Setup[]).flatMap((s) => paths.map((path): [string, () => Promise<void>] => [
    `[${s.shape}]${s.act ? ` + ${s.act}` : ''}, ${path}: training and eval forward, running update, backward vs float64`,
    () => onPath(path, () => checkAgainstReference(s)),
  ])),
  [
    'large M = 8*112*112 rows, and data with |mean| >> std, keep float32 statistics accurate (both paths)',
    async () => { for (const p of paths) await onPath(p, largeAndOffset); },
  ],
  [
    'running statistics accumulate over steps; eval uses them; noGrad records nothing (both paths)',
    async () => { for (const p of paths) await onPath(p, accumulate); },
  ],
  [
    'gradcheck: training and eval, [N,H,W,C] and [N,C], fused h-swish, scalar and vec4 kernels (both paths)',
    async () => { for (const p of paths) await onPath(p, gradchecks); },
  ],
  [
    "the one-dispatch and serial kernels at MobileNet's small-M layers: channels over and under a workgroup, lanes past the last group",
    async () => {
      // GC = 1, 2, 4, 8 (kernels/batchnorm.ts bnSmallGroups) and channel counts that leave lanes idle
      // (the serial kernels: 8 channel groups per workgroup, 144, 10, 18, 25 and 5 of them).
      for (const [shape, act] of [[[32, 2, 2, 576], 'hswish'], [[32, 4, 4, 40], 'identity'], [[3, 4, 4, 72], 'relu'], [[2, 3, 3, 100], 'hswish'], [[5, 7, 20], 'relu']] as [number[], Act][]) {
        for (const path of ['workgroup', 'serial', 'sliced'] as const) await onPath(path, () => checkAgainstReference({ shape, seed: shape[3] ?? 99, act }));
      }
    },
  ],
  [
    'serial kernels with 2, 4 and 8 lanes per channel group: rows not divisible by the slices, a slice left empty, lanes past the last group, offset data',
    async () => {
      // [3, 7] rows 3 at 8 slices: five empty slices; 16 channels = 4 vec4 groups (MobileNet's 16x16
      // layer at 64 px), 20 scalar channels, 12 = 3 vec4 groups (lanes past the last group).
      for (const rs of [2, 4, 8]) {
        for (const [shape, act] of [[[3, 7], 'relu'], [[2, 13, 11, 16], 'hswish'], [[1, 9, 9, 20], 'identity'], [[4, 5, 7, 12], 'relu6']] as [number[], Act][]) {
          await onPath('sliced', () => checkAgainstReference({ shape, seed: 200 + rs + shape.length, act }), rs);
        }
        await onPath('sliced', largeAndOffset, rs);
      }
    },
  ],
  [
    'rejects bad shapes and a single value per channel in training',
    async () => {
      const running = { mean: mg.zeros([3]), var: mg.ones([3]) };
      const g = mg.ones([3]);
      const b = mg.zeros([3]);
      const expectThrow = (fn: () => unknown, what: string, pattern: RegExp) => {
        let msg = '';
        try {
          fn();
        } catch (e) {
          msg = (e as Error).message;
        }
        expectTrue(pattern.test(msg), `${what}: expected an error matching ${pattern}, got '${msg}'`);
      };
      const one = mg.tensor([1, 2, 3], [1, 1, 1, 3]);
      expectThrow(() => mg.batchNorm(one, g, b, running, { training: true }), 'M = 1', /more than one value per channel/);
      const y = mg.batchNorm(one, g, b, running, { training: false });
      expectClose(await y.toArray(), [1, 2, 3].map((v) => v / Math.sqrt(1 + 1e-3)), 'M = 1 eval', 1e-6, 1e-6);
      const wrongC = mg.tensor(randomData(8, 3), [2, 4]);
      expectThrow(() => mg.batchNorm(wrongC, g, b, running, { training: true }), 'channel mismatch', /gamma must be \[4\]/);
      const flat = mg.tensor(randomData(3, 4), [3]);
      expectThrow(() => mg.batchNorm(flat, g, b, running, { training: true }), '1-D x', /at least 2 dimensions/);
      [running.mean, running.var, g, b, one, y, wrongC, flat].forEach((t) => t.release());
    },
  ],
]);

/** float64 global average pool over [N, H, W, C]. */
function refGap(x: Float64Array, shape: number[]): Float64Array {
  const [n, h, w, c] = shape as [number, number, number, number];
  const out = new Float64Array(n * c);
  for (let i = 0; i < x.length; i++) out[Math.floor(i / (h * w * c)) * c + (i % c)] += x[i]! / (h * w);
  return out;
}

export const poolCases = cases('pool', [
  ...[
    [2, 5, 7, 13], // odd spatial, C not a multiple of 4
    [3, 1, 1, 5], // H*W = 1
    [1, 1, 1, 7], // batch 1, H*W = 1
    [1, 64, 80, 3], // long spatial axis, few channels: split path through reduce_mid
    [2, 7, 7, 300], // MobileNet-like tail: many channels, short spatial axis (vec4)
    [2, 20, 21, 8], // vec4, long spatial axis: split path
    [3, 3, 5, 4], // vec4, one channel group
  ].map((shape, k): [string, () => Promise<void>] => [
    `globalAvgPool [${shape}] forward and backward vs float64`,
    async () => {
      const c = shape[3]!;
      const x = f32(channelData(shape, 90 + k));
      const tx = mg.tensor(x, shape, { requiresGrad: true });
      const y = mg.globalAvgPool(tx);
      expectTrue(y.shape.length === 2 && y.shape[0] === shape[0] && y.shape[1] === c, `globalAvgPool shape [${y.shape}]`);
      expectClose(await y.toArray(), refGap(x, shape), `globalAvgPool [${shape}]`, 1e-5, 1e-5);
      const dy = f32(randomData(shape[0]! * c, 95 + k));
      const tdy = mg.tensor(dy, [shape[0]!, c]);
      await y.backward(tdy);
      const hw = shape[1]! * shape[2]!;
      const want = new Float64Array(prod(shape)).map((_, i) => dy[Math.floor(i / (hw * c)) * c + (i % c)]! / hw);
      expectClose(await tx.grad!.toArray(), want, `globalAvgPool [${shape}] dx`, 1e-6, 1e-9);
      [tx.grad!, tx, y, tdy].forEach((t) => t.release());
    },
  ]),
  [
    'globalAvgPool gradcheck (including H*W = 1) and shape errors',
    async () => {
      for (const [shape, seed] of [[[2, 3, 5, 3], 1], [[1, 1, 1, 4], 2], [[2, 1, 3, 5], 3]] as [number[], number][]) {
        const t = mg.tensor(randomData(prod(shape), seed), shape);
        await mg.gradcheck((z) => mg.globalAvgPool(z), [t]);
        t.release();
      }
      const bad = mg.tensor(randomData(6, 1), [2, 3]);
      let msg = '';
      try {
        mg.globalAvgPool(bad);
      } catch (e) {
        msg = (e as Error).message;
      }
      expectTrue(/globalAvgPool: x must be \[N, H, W, C\]/.test(msg), `expected a shape error, got '${msg}'`);
      bad.release();
    },
  ],
]);
