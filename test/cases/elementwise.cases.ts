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
  [[7], [5, 1]], // both broadcast? -> a [5,7]
];

export default cases('elementwise', [
  ...(['add', 'sub', 'mul', 'div'] as Op[]).flatMap((op, oi) =>
    shapes.slice(0, 4).map(([as, bs], si): [string, () => Promise<void>] => [
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
