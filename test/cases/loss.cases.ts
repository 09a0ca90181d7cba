import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, expectTrue, prod, randomData } from '../support/check.js';

/** Rounds to float32, as the tensors hold the data. */
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

function labelsFor(n: number, k: number, seed: number): Int32Array {
  return Int32Array.from(randomData(n, seed, 0, k), (v) => Math.min(k - 1, Math.floor(v)));
}

/** float64 reference of PyTorch's CrossEntropyLoss(label_smoothing=eps), mean reduction, and dL/dlogits. */
function refCrossEntropy(x: Float64Array, labels: Int32Array, n: number, k: number, eps: number): { loss: number; grad: Float64Array } {
  let total = 0;
  const grad = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    let se = 0;
    for (const v of row) se += Math.exp(v - m);
    const lse = m + Math.log(se);
    for (let j = 0; j < k; j++) {
      const target = (j === labels[r] ? 1 - eps : 0) + eps / k;
      total -= target * (row[j]! - lse);
      grad[r * k + j] = (Math.exp(row[j]! - lse) - target) / n;
    }
  }
  return { loss: total / n, grad };
}

function refSoftmax(x: Float64Array, k: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / k; r++) {
    const row = x.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    let se = 0;
    for (const v of row) se += Math.exp(v - m);
    for (let j = 0; j < k; j++) out[r * k + j] = Math.exp(row[j]! - m) / se;
  }
  return out;
}

const shapes: [number, number][] = [[1, 3], [7, 13], [13, 7], [5, 1000], [4, 1], [33, 65]];

export default cases('loss', [
  ...[0, 0.1].flatMap((eps) =>
    shapes.map(([n, k], si): [string, () => Promise<void>] => [
      `softmaxCrossEntropy [${n}, ${k}] smoothing ${eps}: value and gradient vs float64`,
      async () => {
        const x = f32(randomData(n * k, 31 + si, -3, 3));
        const labels = labelsFor(n, k, 77 + si);
        const logits = mg.tensor(x, [n, k], { requiresGrad: true });
        const lab = mg.tensor(labels, [n]);
        expectTrue(lab.dtype === 'i32', 'labels are i32');
        const want = refCrossEntropy(x, labels, n, k, eps);
        const loss = mg.softmaxCrossEntropy(logits, lab, { labelSmoothing: eps });
        expectTrue(loss.shape.length === 0, `loss is a scalar, got [${loss.shape}]`);
        expectClose([await loss.item()], [want.loss], 'loss', 1e-5, 1e-6);
        await loss.backward();
        expectClose(await logits.grad!.toArray(), want.grad, 'dlogits', 1e-4, 1e-7);
        [logits.grad!, logits, lab, loss].forEach((t) => t.release());
      },
    ]),
  ),
  [
    'softmaxCrossEntropy gradcheck, with and without smoothing',
    async () => {
      for (const [n, k, eps] of [[3, 7, 0], [5, 3, 0.2], [1, 13, 0.1]] as const) {
        const x = mg.tensor(randomData(n * k, 5 + k, -2, 2), [n, k]);
        const lab = mg.tensor(labelsFor(n, k, 9 + n), [n]);
        await mg.gradcheck((z) => mg.softmaxCrossEntropy(z, lab, { labelSmoothing: eps }), [x]);
        x.release();
        lab.release();
      }
    },
  ],
  [
    'softmaxCrossEntropy is stable with large logits and many rows (2-D grid)',
    async () => {
      // Logits near +-1e4 overflow a naive exp; 70,000 rows need more than 65,535 workgroups.
      const n = 70_000;
      const k = 3;
      const x = f32(randomData(n * k, 3, 9000, 10000));
      for (let i = 0; i < x.length; i += 5) x[i] = -x[i]!;
      const labels = labelsFor(n, k, 4);
      const logits = mg.tensor(x, [n, k], { requiresGrad: true });
      const lab = mg.tensor(labels, [n]);
      const want = refCrossEntropy(x, labels, n, k, 0.05);
      const loss = mg.softmaxCrossEntropy(logits, lab, { labelSmoothing: 0.05 });
      const got = await loss.item();
      expectTrue(Number.isFinite(got), `loss is finite, got ${got}`);
      // A per-row loss of ~1e3 in float32 carries ~1e-4 absolute error, averaged over the rows.
      expectClose([got], [want.loss], 'loss', 1e-5, 1e-3);
      await loss.backward();
      expectClose(await logits.grad!.toArray(), want.grad, 'dlogits', 1e-4, 1e-10);
      [logits.grad!, logits, lab, loss].forEach((t) => t.release());
    },
  ],
  [
    'softmaxCrossEntropy: a label outside [0, K) gives NaN; bad shapes throw',
    async () => {
      const logits = mg.tensor(randomData(12, 1), [3, 4]);
      const lab = mg.tensor(new Int32Array([0, 4, 2]), [3]);
      const bad = mg.softmaxCrossEntropy(logits, lab);
      expectTrue(Number.isNaN(await bad.item()), 'NaN loss for label 4 of K = 4');
      bad.release();
      const short = mg.tensor(new Int32Array([0, 1]), [2]);
      let threw = false;
      try {
        mg.softmaxCrossEntropy(logits, short);
      } catch (e) {
        threw = e instanceof mg.MobilegradError;
      }
      expectTrue(threw, 'labels of the wrong length throw MobilegradError');
      [logits, lab, short].forEach((t) => t.release());
    },
  ],
  [
    'softmax forward vs float64, rows sum to 1, gradcheck',
    async () => {
      for (const shape of [[7, 13], [2, 3, 1000], [1, 1], [5, 70]]) {
        const k = shape[shape.length - 1]!;
        const x = f32(randomData(prod(shape), k, -20, 20));
        const t = mg.tensor(x, shape);
        const y = mg.softmax(t);
        expectClose(await y.toArray(), refSoftmax(x, k), `softmax [${shape}]`, 1e-5, 1e-7);
        y.release();
        t.release();
      }
      const t = mg.tensor(randomData(21, 8, -2, 2), [3, 7]);
      await mg.gradcheck((z) => mg.softmax(z), [t]);
      t.release();
    },
  ],
]);

/** The dropout mask hash of shaders/dropout.wgsl, in JavaScript. */
function mix32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
function keptRef(i: number, seed: number, p: number): boolean {
  const h = mix32((i ^ mix32((seed ^ 0x9e3779b9) >>> 0)) >>> 0);
  return h >>> 8 >= Math.round(p * 2 ** 24);
}

export const dropoutCases = cases('dropout', [
  [
    'mask equals the CPU hash reference, scaling exact, backward mask equals forward mask',
    async () => {
      for (const [shape, p, seed] of [[[3, 5, 7, 13], 0.3, 12345], [[1001], 0.5, 7], [[1], 0.1, 0xffffffff], [[2, 129], 0.9, 42]] as [number[], number, number][]) {
        const n = prod(shape);
        const x = Float32Array.from(randomData(n, n, 0.1, 2)); // never zero: zeros would hide the mask
        const t = mg.tensor(x, shape, { requiresGrad: true });
        const y = mg.dropout(t, p, { seed });
        const got = await y.toArray();
        const scale = Math.fround(1 / (1 - p));
        const want = Float64Array.from(x, (v, i) => (keptRef(i, seed, p) ? Math.fround(v * scale) : 0));
        expectClose(got, want, `dropout forward [${shape}] p=${p}`, 0, 0);
        const g = Float32Array.from(randomData(n, 3 * n, 0.5, 1.5));
        const gt = mg.tensor(g, shape);
        await y.backward(gt);
        const dx = await t.grad!.toArray();
        const wantDx = Float64Array.from(g, (v, i) => (got[i] !== 0 ? Math.fround(v * scale) : 0));
        expectClose(dx, wantDx, `dropout backward [${shape}]`, 0, 0);
        [t.grad!, t, y, gt].forEach((q) => q.release());
      }
    },
  ],
  [
    'kept fraction is 1 - p over a large tensor; same seed same mask, other seed other mask',
    async () => {
      const n = 1_000_003;
      const t = mg.ones([n]);
      const run = async (p: number, seed: number) => {
        const y = mg.dropout(t, p, { seed });
        const v = await y.toArray();
        y.release();
        return v;
      };
      for (const p of [0.1, 0.5, 0.8]) {
        const a = await run(p, 99);
        let kept = 0;
        for (const v of a) if (v !== 0) kept++;
        const sigma = Math.sqrt((p * (1 - p)) / n);
        expectTrue(Math.abs(kept / n - (1 - p)) < 5 * sigma, `p=${p}: kept fraction ${kept / n}, expected ${1 - p}`);
        const b = await run(p, 99);
        expectClose(b, a, 'same seed, same output', 0, 0);
        const c = await run(p, 100);
        let differ = 0;
        for (let i = 0; i < n; i++) if ((a[i] === 0) !== (c[i] === 0)) differ++;
        const expectDiffer = 2 * p * (1 - p);
        expectTrue(Math.abs(differ / n - expectDiffer) < 0.01, `seeds 99 and 100 differ at ${differ / n} of elements, expected about ${expectDiffer}`);
      }
      t.release();
    },
  ],
  [
    'training false and p = 0 return x unchanged as a view, gradients pass through; p = 1 zeroes',
    async () => {
      const x = randomData(39, 5, 0.1, 1);
      for (const opts of [{ p: 0.5, training: false }, { p: 0, training: true }]) {
        const t = mg.tensor(x, [3, 13], { requiresGrad: true });
        const y = mg.dropout(t, opts.p, { training: opts.training, seed: 1 });
        expectTrue(y.buffer === t.buffer, 'same storage (a view)');
        expectClose(await y.toArray(), x, 'unchanged', 1e-7, 0);
        const s = mg.sum(y);
        await s.backward();
        expectClose(await t.grad!.toArray(), new Float64Array(39).fill(1), 'gradient passes through', 0, 0);
        [t.grad!, t, y, s].forEach((q) => q.release());
      }
      const t = mg.tensor(x, [39]);
      const z = mg.dropout(t, 1, { seed: 3 });
      expectClose(await z.toArray(), new Float64Array(39), 'p = 1 drops everything', 0, 0);
      [t, z].forEach((q) => q.release());
    },
  ],
  [
    'gradcheck',
    async () => {
      const t = mg.tensor(randomData(65, 17, 0.2, 1), [5, 13]);
      await mg.gradcheck((z) => mg.dropout(z, 0.4, { seed: 2024 }), [t]);
      t.release();
    },
  ],
]);
