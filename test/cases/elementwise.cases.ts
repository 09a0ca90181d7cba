import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, prod, randomAwayFrom, randomData } from '../support/check.js';

type Op = 'add' | 'sub' | 'mul' | 'div';
const f: Record<Op, (a: number, b: number) => number> = { add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b };

/** float64 NumPy-style broadcast reference. */
function refBinary(op: Op, a: Float64Array, as: number[], b: Float64Array, bs: number[]): { out: Float64Array; shape: number[] } {
  const r = Math.max(as.length, bs.length);
  const pa = [...Array(r - as.length).fill(1), ...as];
  const pb = [...Array(r - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const n = prod(shape);
  const out = new Float64Array(n);
  const idx = (flat: number, s: number[]) => {
    let rem = flat;
    let off = 0;
    let stride = 1;
    const coords: number[] = [];
    for (let i = r - 1; i >= 0; i--) {
      coords[i] = rem % shape[i]!;
      rem = Math.floor(rem / shape[i]!);
    }
    for (let i = r - 1; i >= 0; i--) {
      off += (s[i] === 1 ? 0 : coords[i]!) * stride;
      stride *= s[i]!;
    }
    return off;
  };
  for (let i = 0; i < n; i++) out[i] = f[op](a[idx(i, pa)]!, b[idx(i, pb)]!);
  return { out, shape };
}

const shapes: [number[], number[]][] = [
  [[3, 5, 7, 13], [3, 5, 7, 13]], // equal, odd sizes
  [[2, 9, 11, 13], [13]], // per-channel (NHWC bias)
  [[3, 5, 5, 7], [3, 1, 1, 7]], // SE gate
  [[1, 3, 3, 5], [1]], // scalar tensor, batch 1
  [[7], [5, 1]], // both broadcast -> [5, 7]: the general fallback kernel
  // Rows of a multiple of 4 floats take the vec4 kernels (kernels/vec.ts).
  [[2, 5, 7, 8], [2, 5, 7, 8]], // equal, vec4
  [[2, 3, 5, 12], [12]], // per-channel, vec4
  [[3, 5, 5, 16], [3, 1, 1, 16]], // SE gate, vec4
  [[1, 2, 2, 8], [2, 1, 1, 8]], // SE gate on the left operand's side: a broadcast along batch
  [[5, 1, 8], [1, 3, 8]], // both broadcast, vec4-sized rows: the fallback
];

export default cases('elementwise', [
  ...(['add', 'sub', 'mul', 'div'] as Op[]).flatMap((op, oi) =>
    shapes.map(([as, bs], si): [string, () => Promise<void>] => [
      `${op} [${as}] with [${bs}]`,
      async () => {
        const a = randomData(prod(as), 11 + si + 7 * oi);
        const b = op === 'div' ? randomData(prod(bs), 97 + si, 0.5, 2) : randomData(prod(bs), 97 + si);
        const ta = mg.tensor(a, as);
        const tb = mg.tensor(b, bs);
        const want = refBinary(op, a, as, b, bs);
        const y = mg[op](ta, tb);
        expectClose(await y.toArray(), want.out, `${op} forward`, 1e-6, 1e-6);
        await mg.gradcheck((x, z) => mg[op](x, z), [ta, tb]);
        [ta, tb, y].forEach((t) => t.release());
      },
    ]),
  ),
  [
    'sum and mean over adjacent axes, large reductions split in two passes',
    async () => {
      for (const [shape, axes] of [
        [[2, 37, 41, 3], [1, 2]],
        [[1, 301, 17], [0, 1]],
        [[5, 3], [1]],
        [[9, 5000, 3], [0, 1]],
        [[2, 37, 41, 8], [1, 2]], // vec4 rows
        [[3, 4, 5, 8], [1, 2]], // vec4, with gradcheck (broadcastTo through binary_rows)
        [[9, 5000, 4], [0, 1]], // vec4, split in passes
      ] as [number[], number[]][]) {
        const x = randomData(prod(shape), shape[1]!);
        const t = mg.tensor(x, shape);
        const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        const want = new Float64Array(prod(keep));
        const strides = shape.map((_, i) => prod(shape.slice(i + 1)));
        const kstr = keep.map((_, i) => prod(keep.slice(i + 1)));
        for (let i = 0; i < x.length; i++) {
          let o = 0;
          for (let d = 0; d < shape.length; d++) if (!axes.includes(d)) o += (Math.floor(i / strides[d]!) % shape[d]!) * kstr[d]!;
          want[o] += x[i]!;
        }
        const s = mg.sum(t, axes);
        expectClose(await s.toArray(), want, `sum [${shape}] over ${axes}`, 1e-5, 1e-4);
        const count = axes.reduce((n, a) => n * shape[a]!, 1);
        const m = mg.mean(t, axes, true);
        expectClose(await m.toArray(), want.map((v) => v / count), `mean [${shape}]`, 1e-5, 1e-5);
        if (t.size < 5000) await mg.gradcheck((z) => mg.mean(z, axes), [t]);
        [t, s, m].forEach((q) => q.release());
      }
    },
  ],
]);

/** SE-style x [N,H,W,C] * gate [N,1,1,C]: the gate gradient summed as the product is formed equals sum(g * x). */
async function checkGateGradient(shape: number[], seed: number): Promise<void> {
  const [n, h, w, c] = shape as [number, number, number, number];
  const x = randomData(prod(shape), seed);
  const gate = randomData(n * c, seed + 1);
  const g = randomData(prod(shape), seed + 2);
  const tx = mg.tensor(x, shape, { requiresGrad: true });
  const tgate = mg.tensor(gate, [n, 1, 1, c], { requiresGrad: true });
  const y = mg.mul(tx, tgate);
  const tg = mg.tensor(g, shape);
  await y.backward(tg);
  const want = new Float64Array(n * c);
  for (let i = 0; i < x.length; i++) want[Math.floor(i / (h * w * c)) * c + (i % c)] += g[i]! * x[i]!;
  const fused = await tgate.grad!.toArray();
  expectClose(fused, want, `gate gradient [${shape}] vs float64`, 1e-5, 1e-5);
  // The unfused path: materialise g * x, then sum it over H, W.
  const prodT = mg.noGrad(() => mg.mul(tg, tx));
  const unfused = mg.sum(prodT, [1, 2], true);
  expectClose(fused, await unfused.toArray(), `gate gradient [${shape}]: fused vs unfused`, 1e-5, 1e-6);
  expectClose(await tx.grad!.toArray(), g.map((v, i) => v * gate[Math.floor(i / (h * w * c)) * c + (i % c)]!), `x gradient [${shape}]`, 1e-6, 1e-6);
  [tx, tgate, y, tg, prodT, unfused, tx.grad!, tgate.grad!].forEach((t) => t.release());
}

export const seScaleCases = cases('elementwise', [
  ['SE gate multiply: fused gate gradient (vec4 and scalar, short and split spatial sums) vs float64 and the unfused sum', async () => {
    await checkGateGradient([2, 5, 7, 16], 1);
    await checkGateGradient([3, 4, 3, 7], 2);
    await checkGateGradient([2, 40, 40, 8], 3);
    await checkGateGradient([1, 1, 1, 4], 4);
  }],
]);

export const activationCases = cases('activation', (['relu', 'relu6', 'hswish', 'hsigmoid'] as const).map((name) => [
  `${name} forward and backward`,
  async () => {
    const ref: Record<string, (v: number) => number> = {
      relu: (v) => Math.max(v, 0),
      relu6: (v) => Math.min(Math.max(v, 0), 6),
      hswish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
      hsigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
    };
    const shape = [2, 7, 9, 13];
    const x = randomAwayFrom(prod(shape), 5, [-3, 0, 3, 6], 0.05, -8, 8);
    const t = mg.tensor(x, shape);
    const y = mg.activation(t, name);
    expectClose(await y.toArray(), x.map(ref[name]!), `${name} forward`, 1e-6, 1e-6);
    await mg.gradcheck((z) => mg.activation(z, name), [t], { eps: 1e-2 });
    t.release();
    y.release();
  },
]));
