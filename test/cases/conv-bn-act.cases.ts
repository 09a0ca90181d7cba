/**
 * The fused inference op (src/ops/conv-bn-act.ts): conv + BatchNorm with running statistics +
 * activation (+ residual) in one kernel, against float64 references at awkward shapes, on every
 * GEMM path, and the whole eval-mode network fused against the separate kernels.
 */
import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, expectThrows, expectTrue, prod, randomData } from '../support/check.js';
import { dense, depthwise, outSize, reference, wShape, type Conv } from './conv.cases.js';

type Act = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'identity';
const act: Record<Act, (v: number) => number> = {
  relu: (v) => Math.max(v, 0),
  relu6: (v) => Math.min(Math.max(v, 0), 6),
  hswish: (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6,
  hsigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
  identity: (v) => v,
};

interface Fused {
  conv: Conv;
  kind: mg.ConvKind;
  act: Act;
  residual: boolean;
  eps: number;
  /** A per-input-channel scale (the SE gate) folded into a batch-1 pointwise conv. */
  inputScale?: boolean;
}

const describe = (f: Fused) =>
  `${f.kind} x [${f.conv.n},${f.conv.h},${f.conv.w},${f.conv.cin}] -> ${f.conv.cout} k${f.conv.kh} s${f.conv.stride} + BN + ${f.act}${f.residual ? ' + residual' : ''}${f.inputScale ? ', input scaled per channel' : ''}`;

async function check(f: Fused, seed: number): Promise<void> {
  const c = f.conv;
  const [ho, wo] = outSize(c);
  const x = randomData(c.n * c.h * c.w * c.cin, seed);
  const w = randomData(prod(wShape(c)), seed + 1);
  const gamma = randomData(c.cout, seed + 2, 0.5, 1.5);
  const beta = randomData(c.cout, seed + 3, -0.5, 0.5);
  const mean = randomData(c.cout, seed + 4, -0.5, 0.5);
  const vari = randomData(c.cout, seed + 5, 0.2, 2);
  const outN = c.n * ho * wo * c.cout;
  const res = f.residual ? randomData(outN, seed + 6) : null;
  const scale = f.inputScale ? randomData(c.cin, seed + 7, 0.1, 1.2) : null;
  const xs = scale ? x.map((v, i) => v * scale[i % c.cin]!) : x;
  const conv = reference(c, xs, w, new Float64Array(outN)).y;
  const want = new Float64Array(outN);
  for (let i = 0; i < outN; i++) {
    const ch = i % c.cout;
    const z = ((conv[i]! - mean[ch]!) / Math.sqrt(vari[ch]! + f.eps)) * gamma[ch]! + beta[ch]!;
    want[i] = act[f.act](z) + (res ? res[i]! : 0);
  }
  const pointwise = f.kind === 'pointwise';
  const t = {
    x: mg.tensor(x, [c.n, c.h, c.w, c.cin]),
    w: mg.tensor(w, pointwise ? [c.cin, c.cout] : wShape(c)),
    gamma: mg.tensor(gamma, [c.cout]),
    beta: mg.tensor(beta, [c.cout]),
    mean: mg.tensor(mean, [c.cout]),
    vari: mg.tensor(vari, [c.cout]),
    res: res ? mg.tensor(res, [c.n, ho, wo, c.cout]) : undefined,
    scale: scale ? mg.tensor(scale, [1, c.cin]) : undefined,
  };
  const epi = {
    gamma: t.gamma, beta: t.beta, runningMean: t.mean, runningVar: t.vari, eps: f.eps, activation: f.act, ...(t.res ? { residual: t.res } : {}),
    ...(t.scale ? { inputScale: t.scale } : {}),
  };
  if (t.scale && !mg.convBnActScalesInput(t.x, t.w)) {
    // No subgroup GEMM here (or the plain path forced): the op must refuse, not compute without the scale.
    await expectThrows(() => mg.convBnAct(f.kind, t.x, t.w, epi), describe(f), 'input scale is fused only');
    for (const v of Object.values(t)) v?.release();
    return;
  }
  const y = mg.convBnAct(f.kind, t.x, t.w, epi, { stride: c.stride, padding: c.pad });
  expectTrue(y.shape.join() === [c.n, ho, wo, c.cout].join(), `${describe(f)}: output shape [${y.shape}]`);
  expectClose(await y.toArray(), want, describe(f), 1e-4, 1e-5);
  for (const v of [...Object.values(t), y]) v?.release();
}

const pw = (n: number, h: number, w: number, cin: number, cout: number) => dense(n, h, w, cin, cout, 1, 1, 1, 0);
const shapes: Fused[] = [
  { conv: dense(1, 7, 9, 3, 16, 3, 3, 2, 1), kind: 'general', act: 'hswish', residual: false, eps: 1e-3 }, // the stem, batch 1, odd image
  { conv: dense(2, 9, 10, 5, 12, 3, 3, 2, 1), kind: 'general', act: 'relu', residual: false, eps: 1e-5 }, // 12 channels: the second 8-channel block half past the end
  { conv: dense(2, 9, 12, 3, 16, 3, 3, 2, 1), kind: 'general', act: 'hswish', residual: false, eps: 1e-3 }, // width x 3 in fours: the stem's row kernel, odd height
  { conv: dense(1, 7, 8, 3, 12, 3, 3, 2, 1), kind: 'general', act: 'hsigmoid', residual: false, eps: 1e-3 }, // the row kernel with 12 channels, batch 1
  { conv: depthwise(1, 7, 9, 12, 3, 1, 1), kind: 'depthwise', act: 'relu', residual: false, eps: 1e-3 },
  { conv: depthwise(3, 5, 5, 8, 5, 2, 2), kind: 'depthwise', act: 'hswish', residual: false, eps: 1e-3 },
  { conv: depthwise(2, 14, 13, 12, 5, 2, 2), kind: 'depthwise', act: 'hswish', residual: false, eps: 1e-3 }, // 5x5 stride 2 onto 7x7: scalar lanes on CPU adapters
  { conv: depthwise(2, 15, 13, 4, 3, 2, 1), kind: 'depthwise', act: 'relu6', residual: false, eps: 1e-3 }, // odd sizes, partial blocks
  { conv: pw(2, 5, 7, 72, 24), kind: 'pointwise', act: 'identity', residual: true, eps: 1e-3 }, // the subgroup GEMM where the adapter has it (K >= 64)
  { conv: pw(1, 3, 5, 96, 20), kind: 'pointwise', act: 'hswish', residual: false, eps: 1e-3 }, // 15 rows: one partial row tile; 5 column groups
  { conv: pw(2, 7, 3, 20, 12), kind: 'pointwise', act: 'hsigmoid', residual: true, eps: 1e-3 }, // short K: the plain vec4 GEMM
  { conv: pw(1, 5, 5, 66, 8), kind: 'pointwise', act: 'relu6', residual: false, eps: 1e-3 }, // K not in fours: the plain vec4 GEMM at long K
  // The SE gate folded into the projection (batch 1, subgroup GEMM): rows and k-blocks past the end.
  { conv: pw(1, 7, 5, 96, 20), kind: 'pointwise', act: 'identity', residual: true, eps: 1e-3, inputScale: true },
  { conv: pw(1, 3, 3, 76, 12), kind: 'pointwise', act: 'hswish', residual: false, eps: 1e-3, inputScale: true }, // k = 76: a partial last k-block
];

/** Logits of MobileNetV3-Small in eval mode, fused or not, after a few training-mode forwards moved its statistics. */
async function networkCase(batch: number): Promise<void> {
  mg.seed(3);
  const model = mg.models.mobilenetV3Small({ numClasses: 7 });
  model.train();
  for (let i = 0; i < 2; i++) mg.tidy(() => void mg.noGrad(() => model.call(mg.randn([3, 33, 33, 3], { seed: 20 + i }))));
  model.eval();
  const x = mg.randn([batch, 37, 35, 3], { seed: 5 });
  const dev = mg.getDevice();
  const run = async (fused: boolean) => {
    const prev = mg.models.setInferenceFusion(fused);
    const d0 = dev.dispatcher.counters.dispatches;
    const y = mg.noGrad(() => model.call(x));
    const d = dev.dispatcher.counters.dispatches - d0;
    const out = await y.toArray();
    y.release();
    mg.models.setInferenceFusion(prev);
    return { out, d };
  };
  const sep = await run(false);
  const fused = await run(true);
  let scale = 0;
  for (const v of sep.out) scale = Math.max(scale, Math.abs(v));
  expectTrue(scale > 0, 'network logits are all zero');
  expectClose(fused.out, sep.out, 'fused eval network against the separate kernels', 1e-3, 1e-4 * scale);
  // 34 Conv-BN layers lose their BatchNorm dispatch and 6 residual adds theirs (and the fused
  // GEMMs never split K, so split-K reductions go too at small sizes).
  expectTrue(sep.d - fused.d >= 34 + 6, `dispatches: ${sep.d} separate, ${fused.d} fused (expected at least 40 fewer)`);
  x.release();
}

export default cases('conv-bn-act', [
  ...shapes.map((f, i): [string, () => Promise<void>] => [`${describe(f)} against float64`, () => check(f, 700 + 10 * i)]),
  [
    'the pointwise cases on the plain GEMM path too',
    async () => {
      const prev = mg.setGemmPath('plain');
      try {
        for (const [i, f] of shapes.entries()) if (f.kind === 'pointwise') await check(f, 900 + 10 * i);
      } finally {
        mg.setGemmPath(prev);
      }
    },
  ],
  ['MobileNetV3-Small in eval mode: fused equals separate kernels, 40+ dispatches fewer', () => networkCase(2)],
  ['the same at batch 1 (the SE gates folded into the projections where the adapter allows)', () => networkCase(1)],
  [
    'refuses what it cannot fuse: a gradient, channels not in fours',
    async () => {
      const x = mg.randn([1, 4, 4, 8], { seed: 1 });
      const ones = mg.tensor(new Float32Array(6).fill(1), [6]);
      const w = mg.randn([8, 6], { seed: 2 });
      const bn = { gamma: ones, beta: ones, runningMean: ones, runningVar: ones, eps: 1e-3, activation: 'relu' as const };
      const throws = (fn: () => unknown, mention: string) => {
        try {
          fn();
        } catch (e) {
          expectTrue(e instanceof mg.MobilegradError && e.message.includes(mention), `wrong error: ${(e as Error).message}`);
          return;
        }
        throw new Error(`no error thrown (expected one mentioning '${mention}')`);
      };
      throws(() => mg.convBnAct('pointwise', x, w, bn), 'multiple of 4');
      const w8 = mg.randn([8, 8], { seed: 3 });
      w8.requiresGrad = true;
      const ones8 = mg.tensor(new Float32Array(8).fill(1), [8]);
      throws(() => mg.convBnAct('pointwise', x, w8, { ...bn, gamma: ones8, beta: ones8, runningMean: ones8, runningVar: ones8 }), 'forward-only');
      // An input scale: only pointwise, one value per input channel, one image.
      const bn8 = { ...bn, gamma: ones8, beta: ones8, runningMean: ones8, runningVar: ones8 };
      const x2 = mg.randn([2, 3, 3, 64], { seed: 4 });
      const w64 = mg.randn([64, 8], { seed: 5 });
      const s64 = mg.tensor(new Float32Array(64).fill(0.5), [1, 64]);
      throws(() => mg.convBnAct('pointwise', x2, w64, { ...bn8, inputScale: s64 }), 'batch 1');
      const w8c = mg.randn([8, 8], { seed: 7 });
      const wdw = mg.randn([3, 3, 8], { seed: 6 });
      throws(() => mg.convBnAct('pointwise', x, w8c, { ...bn8, inputScale: s64 }), '8 values');
      throws(() => mg.convBnAct('depthwise', x, wdw, { ...bn8, inputScale: ones8 }), 'only into pointwise');
      [x, ones, w, w8, ones8, x2, w64, s64, w8c, wdw].forEach((t) => t.release());
    },
  ],
]);
