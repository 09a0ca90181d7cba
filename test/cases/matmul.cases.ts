import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, expectThrows, expectTrue, prod, randomData } from '../support/check.js';
import { linearAct, setGemmTargetThreads } from '../../src/ops/matmul.js';

/** Product and both gradients of c = op(a) · op(b) in float64; gradients in a's and b's stored layouts. */
function refGemm(a: Float64Array, b: Float64Array, g: Float64Array, m: number, k: number, n: number, tA: boolean, tB: boolean) {
  const ai = (i: number, q: number) => (tA ? q * m + i : i * k + q);
  const bi = (q: number, j: number) => (tB ? j * k + q : q * n + j);
  const c = new Float64Array(m * n);
  const da = new Float64Array(m * k);
  const db = new Float64Array(k * n);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < k; q++) {
      const av = a[ai(i, q)]!;
      let s = 0;
      for (let j = 0; j < n; j++) {
        const bv = b[bi(q, j)]!;
        c[i * n + j] += av * bv;
        s += g[i * n + j]! * bv;
        db[bi(q, j)] += av * g[i * n + j]!;
      }
      da[ai(i, q)] = s;
    }
  }
  return { c, da, db };
}

/** |got - want| within rtol of the largest |want| (sums of k products cancel: scale by magnitude). */
function closeToScale(got: ArrayLike<number>, want: Float64Array, what: string, rtol = 1e-4) {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  expectClose(got, want, what, rtol, rtol * Math.max(scale, 1e-6));
}

let seed = 1;
const combos: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

/** Runs matmul at (m, k, n) with flags, checks forward and both gradients against float64. */
async function checkMatmul(m: number, k: number, n: number, tA: boolean, tB: boolean) {
  const label = `matmul m=${m} k=${k} n=${n}${tA ? ' tA' : ''}${tB ? ' tB' : ''}`;
  const a = randomData(m * k, seed++);
  const b = randomData(k * n, seed++);
  const g = randomData(m * n, seed++);
  const ta = mg.tensor(a, tA ? [k, m] : [m, k], { requiresGrad: true });
  const tb = mg.tensor(b, tB ? [n, k] : [k, n], { requiresGrad: true });
  const y = mg.matmul(ta, tb, { transposeA: tA, transposeB: tB });
  expectTrue(y.shape.join() === `${m},${n}`, `${label}: output shape [${y.shape}]`);
  const want = refGemm(a, b, g, m, k, n, tA, tB);
  closeToScale(await y.toArray(), want.c, `${label} forward`);
  const tg = mg.tensor(g, [m, n]);
  await y.backward(tg);
  closeToScale(await ta.grad!.toArray(), want.da, `${label} dA`);
  closeToScale(await tb.grad!.toArray(), want.db, `${label} dB`);
  for (const t of [ta.grad!, tb.grad!, ta, tb, tg, y]) t.release();
}

/**
 * linear [rows, inF] x [inF, outF] (+ bias) forward and gradients against float64; `more` runs
 * further checks on the same tensors (c: the float64 forward with bias).
 */
async function checkLinear(rows: number, inF: number, outF: number, withBias: boolean,
  more?: (tx: mg.Tensor, tw: mg.Tensor, tbias: mg.Tensor, c: Float64Array, tag: string) => Promise<void>): Promise<void> {
  const x = randomData(rows * inF, seed++);
  const w = randomData(inF * outF, seed++);
  const bias = randomData(outF, seed++);
  const g = randomData(rows * outF, seed++);
  const tx = mg.tensor(x, [rows, inF], { requiresGrad: true });
  const tw = mg.tensor(w, [inF, outF], { requiresGrad: true });
  const tbias = mg.tensor(bias, [outF], { requiresGrad: true });
  const y = withBias ? mg.linear(tx, tw, tbias) : mg.linear(tx, tw);
  const want = refGemm(x, w, g, rows, inF, outF, false, false);
  const c = want.c.map((v, i) => v + (withBias ? bias[i % outF]! : 0));
  const tag = `linear [${rows},${inF}]x[${inF},${outF}]${withBias ? ' + bias' : ''}`;
  closeToScale(await y.toArray(), c, `${tag} forward`);
  const tg = await backwardAndCheck(y, g, g, { tx, tw, tbias }, want, withBias, tag);
  await more?.(tx, tw, tbias, c, tag);
  for (const t of [tx.grad!, tw.grad!, tbias.grad, tx, tw, tbias, tg, y]) t?.release();
}

/**
 * Runs y's backward from g and checks a linear layer's gradients against float64: dx and dw
 * (`want`, from the pre-activation gradient dz; dz = g without an activation) and the bias's
 * (the column sums of dz, or none when the layer has no bias). Returns g's tensor, to release.
 */
async function backwardAndCheck(y: mg.Tensor, g: Float64Array, dz: Float64Array, t: { tx: mg.Tensor; tw: mg.Tensor; tbias: mg.Tensor },
  want: { da: Float64Array; db: Float64Array }, withBias: boolean, tag: string): Promise<mg.Tensor> {
  const outF = t.tbias.shape[0]!;
  const tg = mg.tensor(g, y.shape);
  await y.backward(tg);
  closeToScale(await t.tx.grad!.toArray(), want.da, `${tag} dx`);
  closeToScale(await t.tw.grad!.toArray(), want.db, `${tag} dw`);
  if (withBias) {
    const dbias = new Float64Array(outF);
    for (let i = 0; i < dz.length; i++) dbias[i % outF] += dz[i]!;
    closeToScale(await t.tbias.grad!.toArray(), dbias, `${tag} dbias`);
  } else expectTrue(t.tbias.grad === null, `${tag}: the unused bias gets no gradient`);
  return tg;
}

export default cases('matmul', [
  ...combos.map(([tA, tB]): [string, () => Promise<void>] => [
    `forward and gradients vs float64, awkward shapes${tA ? ', a transposed' : ''}${tB ? ', b transposed' : ''}`,
    async () => {
      // Sizes off every multiple of the 8x4 tile, M = 1 (batch 1), K = 1, and a long K.
      for (const [m, k, n] of [[1, 5, 3], [13, 37, 67], [3, 1, 5], [67, 13, 5], [8, 16, 4], [5, 300, 9], [37, 72, 88], [29, 20, 12]]) {
        await checkMatmul(m!, k!, n!, tA, tB);
      }
    },
  ]),
  [
    'large M: many workgroups forward, split-K in the weight gradient (all transposes)',
    async () => {
      for (const [tA, tB] of combos) await checkMatmul(3000, 13, 37, tA, tB);
      await checkMatmul(3001, 24, 16, false, false);
      // b transposed with many rows: b transposed first, then the vec4 kernel (tails in m, n, k; k = 1).
      for (const [m, k, n] of [[301, 5, 12], [257, 40, 20], [1000, 1, 4]]) await checkMatmul(m!, k!, n!, false, true);
    },
  ],
  [
    'long K with small output: split-K in the forward, at the CPU and the GPU adapters\' split targets',
    async () => {
      // Products of at least 2^22 multiply-adds split k; smaller ones run whole (both checked).
      for (const target of [1024, 8192]) {
        const prev = setGemmTargetThreads(target);
        try {
          await checkMatmul(3, 5000, 5, false, false);
          await checkMatmul(1, 2053, 13, true, true);
          await checkMatmul(24, 20000, 12, false, false);
          await checkMatmul(9, 40001, 13, true, true);
          await checkMatmul(400, 3000, 64, true, false); // many lanes: the target decides the splits
        } finally {
          setGemmTargetThreads(prev);
        }
      }
    },
  ],
  [
    'weight-gradient shapes on the 8x12 tile (a transposed, n % 12 == 0 or a column tail): tails, split-K, short k',
    async () => {
      // m % 4 == 0 but not % 8 (row tails), n = 12, 36, 60 (whole tiles) and 20, 88 (last tile partly
      // past n), k = 1 and 3 (batch-like), and 36 x 2000 x 60 (split over k, 2^22 multiply-adds and up).
      const shapes: [number, number, number][] = [[12, 7, 12], [20, 1, 36], [44, 3, 60], [4, 33, 20], [28, 130, 88], [36, 2000, 60], [100, 2100, 24]];
      for (const [m, k, n] of shapes) await checkMatmul(m, k, n, true, false);
      // The same products as dW of a plain product (rows of dW = k here, reduction over m).
      for (const [m, k, n] of [[300, 12, 36], [5000, 20, 12]]) await checkMatmul(m!, k!, n!, false, false);
    },
  ],
  [
    'subgroup GEMM path (where the adapter has subgroups) and the plain path agree with float64 on shapes that take it',
    async () => {
      // k >= 64 and n % 4 == 0 take the subgroup kernel; tails in every dimension (m not a multiple of
      // the subgroup tile, k not a multiple of the subgroup size), split-K, bias, all transposes.
      const shapes: [number, number, number][] = [[37, 68, 88], [130, 100, 24], [9, 3000, 16], [1, 64, 4], [300, 40, 20], [260, 72, 12]];
      for (const path of ['auto', 'plain'] as const) {
        const prev = mg.setGemmPath(path);
        try {
          for (const [m, k, n] of shapes) for (const [tA, tB] of combos) await checkMatmul(m, k, n, tA, tB);
          const x = randomData(33 * 96, seed++);
          const w = randomData(96 * 40, seed++);
          const bias = randomData(40, seed++);
          const y = mg.linear(mg.tensor(x, [33, 96]), mg.tensor(w, [96, 40]), mg.tensor(bias, [40]));
          const c = refGemm(x, w, new Float64Array(33 * 40), 33, 96, 40, false, false).c.map((v, i) => v + bias[i % 40]!);
          closeToScale(await y.toArray(), c, `linear + bias, ${path} path`);
        } finally {
          mg.setGemmPath(prev);
        }
      }
      const dev = mg.getDevice();
      const info = dev.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
      if (dev.has('subgroups') && info.subgroupMinSize && info.subgroupMinSize === info.subgroupMaxSize) {
        expectTrue(mg.declaredKernels().some((kn) => kn.name.startsWith('gemm_sg')), 'the adapter has subgroups of one size, but no subgroup GEMM kernel ran');
      }
    },
  ],
  [
    'matmul gradcheck, all transpose combinations',
    async () => {
      for (const [tA, tB] of combos) {
        const [m, k, n] = [5, 7, 3];
        const a = mg.tensor(randomData(m * k, seed++), tA ? [k, m] : [m, k]);
        const b = mg.tensor(randomData(k * n, seed++), tB ? [n, k] : [k, n]);
        await mg.gradcheck((x, z) => mg.matmul(x, z, { transposeA: tA, transposeB: tB }), [a, b]);
        a.release();
        b.release();
      }
    },
  ],
  [
    'pointwiseConv2d forward and gradients vs float64, gradcheck',
    async () => {
      for (const [nb, h, w, cin, cout] of [[1, 3, 5, 3, 13], [2, 28, 28, 24, 88], [3, 7, 7, 96, 40]]) {
        const p = nb! * h! * w!;
        const x = randomData(p * cin!, seed++);
        const wt = randomData(cin! * cout!, seed++);
        const g = randomData(p * cout!, seed++);
        const tx = mg.tensor(x, [nb!, h!, w!, cin!], { requiresGrad: true });
        const tw = mg.tensor(wt, [cin!, cout!], { requiresGrad: true });
        const y = mg.pointwiseConv2d(tx, tw);
        expectTrue(y.shape.join() === `${nb},${h},${w},${cout}`, `pointwiseConv2d output shape [${y.shape}]`);
        const want = refGemm(x, wt, g, p, cin!, cout!, false, false);
        closeToScale(await y.toArray(), want.c, `pointwiseConv2d [${nb},${h},${w},${cin}]x[${cin},${cout}] forward`);
        const tg = mg.tensor(g, y.shape);
        await y.backward(tg);
        closeToScale(await tx.grad!.toArray(), want.da, 'pointwiseConv2d dx');
        closeToScale(await tw.grad!.toArray(), want.db, 'pointwiseConv2d dw');
        expectTrue(tx.grad!.shape.join() === tx.shape.join(), 'pointwiseConv2d dx has x\'s shape');
        for (const t of [tx.grad!, tw.grad!, tx, tw, tg, y]) t.release();
      }
      const x = mg.tensor(randomData(2 * 3 * 3 * 5, seed++), [2, 3, 3, 5]);
      const w = mg.tensor(randomData(5 * 6, seed++), [5, 6]);
      await mg.gradcheck((a, b) => mg.pointwiseConv2d(a, b), [x, w]);
      x.release();
      w.release();
    },
  ],
  [
    'linear with and without bias: forward and gradients vs float64, gradcheck',
    async () => {
      for (const [rows, inF, outF] of [[1, 576, 13], [32, 37, 10], [7, 3, 1000]]) {
        for (const withBias of [true, false]) await checkLinear(rows!, inF!, outF!, withBias);
      }
      const x = mg.tensor(randomData(3 * 6, seed++), [3, 6]);
      const w = mg.tensor(randomData(6 * 5, seed++), [6, 5]);
      const b = mg.tensor(randomData(5, seed++), [5]);
      await mg.gradcheck((p, q, r) => mg.linear(p, q, r), [x, w, b]);
      await mg.gradcheck((p, q) => mg.linear(p, q), [x, w]);
      // Leading dimensions are batch: [2, 3, in] -> [2, 3, out].
      const x3 = mg.tensor(randomData(2 * 3 * 6, seed++), [2, 3, 6]);
      const y3 = mg.linear(x3, w, b);
      expectTrue(y3.shape.join() === '2,3,5', `linear on [2, 3, 6] gives [${y3.shape}]`);
      await mg.gradcheck((p, q, r) => mg.linear(p, q, r), [x3, w, b]);
      for (const t of [x, w, b, x3, y3]) t.release();
    },
  ],
  [
    'a few rows (gemv): linear with and without bias, forward and gradients vs float64, gradcheck; fused activations',
    async () => {
      // One to four rows with out % 4 == 0 take the gemv kernel: k odd, k < 4 (no unrolled step),
      // k = 1, and MobileNet's SE and classifier shapes at batch 1.
      const acts = { relu: (v: number) => Math.max(v, 0), relu6: (v: number) => Math.min(Math.max(v, 0), 6), hswish: (v: number) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6, hsigmoid: (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6, identity: (v: number) => v };
      for (const [rows, inF, outF] of [[1, 577, 16], [3, 5, 12], [4, 96, 24], [2, 1, 8], [1, 3, 4], [1, 576, 144], [2, 576, 1024]]) {
        for (const withBias of [true, false]) {
          await checkLinear(rows!, inF!, outF!, withBias, async (tx, tw, tbias, c, tag) => {
            // Fused activations (no gradient: gemv with the activation): every kind against float64.
            for (const [name, f] of Object.entries(acts) as [keyof typeof acts, (v: number) => number][]) {
              const fy = mg.noGrad(() => linearAct(tx, tw, withBias ? tbias : undefined, name));
              expectClose(await fy.toArray(), c.map(f), `${tag} + ${name}`, 1e-4, 1e-4 * Math.max(1, ...c.map(Math.abs)));
              fy.release();
            }
          });
        }
      }
      const x = mg.tensor(randomData(2 * 9, seed++), [2, 9]);
      const w = mg.tensor(randomData(9 * 8, seed++), [9, 8]);
      const b = mg.tensor(randomData(8, seed++), [8]);
      await mg.gradcheck((p, q, r) => mg.linear(p, q, r), [x, w, b]);
      for (const t of [x, w, b]) t.release();
    },
  ],
  [
    'linearAct: the activation in the GEMM store, its derivative and the bias gradient in one pass; forward and gradients vs float64 on every path, gradcheck',
    async () => {
      const acts = {
        relu: [(v: number) => Math.max(v, 0), (v: number) => (v > 0 ? 1 : 0)],
        relu6: [(v: number) => Math.min(Math.max(v, 0), 6), (v: number) => (v > 0 && v < 6 ? 1 : 0)],
        hsigmoid: [(v: number) => Math.min(Math.max(v + 3, 0), 6) / 6, (v: number) => (v > -3 && v < 3 ? 1 / 6 : 0)],
        identity: [(v: number) => v, () => 1],
        // Not readable off the output: linear then the activation op.
        hswish: [(v: number) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6, (v: number) => (v <= -3 ? 0 : v >= 3 ? 1 : (2 * v + 3) / 6)],
      } as const;
      const check = async (rows: number, inF: number, outF: number, name: keyof typeof acts, withBias: boolean) => {
        const [f, df] = acts[name];
        // Scaled so that pre-activations spread over the h-sigmoid's and ReLU6's kinks (-3, 0, 3, 6).
        const x = randomData(rows * inF, seed++, -2, 2);
        const w = randomData(inF * outF, seed++, -4 / Math.sqrt(inF), 4 / Math.sqrt(inF));
        const bias = randomData(outF, seed++, -1, 1);
        const g = randomData(rows * outF, seed++);
        const tx = mg.tensor(x, [rows, inF], { requiresGrad: true });
        const tw = mg.tensor(w, [inF, outF], { requiresGrad: true });
        const tb = mg.tensor(bias, [outF], { requiresGrad: true });
        const y = linearAct(tx, tw, withBias ? tb : undefined, name);
        const z = refGemm(x, w, g, rows, inF, outF, false, false).c.map((v, i) => v + (withBias ? bias[i % outF]! : 0));
        const dz = g.map((v, i) => v * df(z[i]!));
        const want = refGemm(x, w, dz, rows, inF, outF, false, false);
        const tag = `linearAct [${rows},${inF}]x[${inF},${outF}]${withBias ? ' + bias' : ''} + ${name}`;
        closeToScale(await y.toArray(), z.map(f), `${tag} forward`);
        const tg = await backwardAndCheck(y, g, dz, { tx, tw, tbias: tb }, want, withBias, tag);
        for (const t of [tx.grad!, tw.grad!, tb.grad, tx, tw, tb, tg, y]) t?.release();
      };
      // The SE blocks at batch 32 (subgroup GEMM where the adapter has it), columns off fours
      // (scalar kernels), a batch of 1 and of 3 (gemv), one column.
      // (and 1500 rows: over the fused limit, the separate ops).
      const shapes = [[32, 576, 144], [32, 24, 96], [7, 9, 6], [1, 16, 8], [3, 40, 12], [5, 13, 1], [1500, 12, 8]];
      for (const path of ['auto', 'plain'] as const) {
        const prev = mg.setGemmPath(path);
        try {
          for (const [i, [rows, inF, outF]] of shapes.entries()) {
            for (const name of Object.keys(acts) as (keyof typeof acts)[]) await check(rows!, inF!, outF!, name, (i + name.length) % 3 !== 0);
          }
        } finally {
          mg.setGemmPath(prev);
        }
      }
      const x = mg.tensor(randomData(3 * 7, seed++), [3, 7]);
      const w = mg.tensor(randomData(7 * 8, seed++), [7, 8]);
      const b = mg.tensor(randomData(8, seed++), [8]);
      for (const name of ['relu', 'hsigmoid'] as const) await mg.gradcheck((p, q, r) => linearAct(p, q, r, name), [x, w, b]);
      for (const t of [x, w, b]) t.release();
    },
  ],
  [
    'shape errors name the op and the shapes',
    async () => {
      const a = mg.tensor(randomData(6, 3), [2, 3]);
      const b = mg.tensor(randomData(8, 4), [4, 2]);
      const img = mg.tensor(randomData(2 * 2 * 2 * 3, 5), [2, 2, 2, 3]);
      const v = mg.tensor(randomData(prod([3]), 6), [3]);
      await expectThrows(() => mg.matmul(a, b), 'matmul inner mismatch', ['matmul', '[2, 3]', '[4, 2]']);
      await expectThrows(() => mg.matmul(a, v), 'matmul 1-D operand', ['matmul', '[3]']);
      await expectThrows(() => mg.matmul(a, a, { transposeB: true, transposeA: true }), 'matmul transposed mismatch', ['matmul', '[2, 3]']);
      await expectThrows(() => mg.pointwiseConv2d(img, b), 'pointwiseConv2d Cin mismatch', ['pointwiseConv2d', '[2, 2, 2, 3]', '[4, 2]']);
      await expectThrows(() => mg.pointwiseConv2d(a, a), 'pointwiseConv2d 2-D input', ['pointwiseConv2d', '[2, 3]']);
      await expectThrows(() => mg.linear(a, b), 'linear in mismatch', ['linear', '[2, 3]', '[4, 2]']);
      await expectThrows(() => mg.linear(b, b, v), 'linear bias mismatch', ['linear', '[3]']);
      for (const t of [a, b, img, v]) t.release();
    },
  ],
]);
