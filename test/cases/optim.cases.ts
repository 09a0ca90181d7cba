import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, expectTrue, prod, randomData } from '../support/check.js';
import { Tensor } from '../../src/tensor/tensor.js';

// Sizes off and on multiples of 4 (Adam runs vec4 kernels for the latter): groups of three and singles of each.
const shapes = [[1], [7], [3, 13], [1003], [2, 129], [4, 5], [1000], [12], [8]];

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const initial = (i: number) => f32(randomData(prod(shapes[i]!), 100 + i, -1, 1));
const gradAt = (i: number, step: number) => f32(randomData(prod(shapes[i]!), 1000 * step + i + 7, -1, 1));

interface SgdHyper { lr: number; momentum: number; dampening: number; nesterov: boolean; wd: number }
interface AdamHyper { lr: number; b1: number; b2: number; eps: number; wd: number; decoupled: boolean }

/** torch.optim.SGD's update, float64. `buf` null before the first step. */
function sgdRef(p: Float64Array, g0: Float64Array, h: SgdHyper, s: { buf: Float64Array | null }): void {
  const d = g0.map((g, i) => g + h.wd * p[i]!);
  if (h.momentum !== 0) {
    if (!s.buf) s.buf = Float64Array.from(d);
    else for (let i = 0; i < d.length; i++) s.buf[i] = h.momentum * s.buf[i]! + (1 - h.dampening) * d[i]!;
    for (let i = 0; i < d.length; i++) d[i] = h.nesterov ? d[i]! + h.momentum * s.buf[i]! : s.buf[i]!;
  }
  for (let i = 0; i < p.length; i++) p[i] = p[i]! - h.lr * d[i]!;
}

/** torch.optim.Adam / AdamW's update (amsgrad off), float64. */
function adamRef(p: Float64Array, g0: Float64Array, h: AdamHyper, s: { m: Float64Array; v: Float64Array; t: number }): void {
  s.t++;
  if (h.decoupled) for (let i = 0; i < p.length; i++) p[i] = p[i]! * (1 - h.lr * h.wd);
  const bc1 = 1 - h.b1 ** s.t;
  const bc2 = 1 - h.b2 ** s.t;
  for (let i = 0; i < p.length; i++) {
    const g = h.decoupled ? g0[i]! : g0[i]! + h.wd * p[i]!;
    s.m[i] = h.b1 * s.m[i]! + (1 - h.b1) * g;
    s.v[i] = h.b2 * s.v[i]! + (1 - h.b2) * g * g;
    p[i] = p[i]! - (h.lr / bc1) * (s.m[i]! / (Math.sqrt(s.v[i]!) / Math.sqrt(bc2) + h.eps));
  }
}

/** Runs `steps` optimizer steps on GPU parameters with seeded gradients; returns the parameters. */
async function runGpu(make: (ps: mg.Tensor[]) => mg.Optimizer, steps: number): Promise<{ params: mg.Tensor[]; opt: mg.Optimizer }> {
  const params = shapes.map((s, i) => mg.tensor(initial(i), s, { requiresGrad: true }));
  const opt = make(params);
  for (let t = 1; t <= steps; t++) {
    params.forEach((p, i) => (p.grad = mg.tensor(gradAt(i, t), shapes[i]!)));
    opt.step();
    opt.zeroGrad();
  }
  return { params, opt };
}

async function expectParams(params: mg.Tensor[], want: Float64Array[], what: string): Promise<void> {
  for (let i = 0; i < params.length; i++) expectClose(await params[i]!.toArray(), want[i]!, `${what}: parameter [${shapes[i]}]`, 1e-5, 1e-6);
}

function cleanup(params: mg.Tensor[], opt: mg.Optimizer): void {
  opt.dispose();
  for (const p of params) {
    p.grad?.release();
    p.release();
  }
}

const sgdConfigs: [string, SgdHyper][] = [
  ['plain with weight decay', { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, wd: 0.05 }],
  ['momentum and dampening with weight decay', { lr: 0.05, momentum: 0.9, dampening: 0.3, nesterov: false, wd: 0.01 }],
  ['Nesterov momentum with weight decay', { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, wd: 0.02 }],
];

const adamConfigs: [string, AdamHyper, (ps: mg.Tensor[]) => mg.Optimizer][] = [
  ['Adam with L2 weight decay', { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decoupled: false },
    (ps) => new mg.Adam(ps, { lr: 0.01, weightDecay: 0.1 })],
  ['Adam with other betas and eps, no decay', { lr: 0.003, b1: 0.8, b2: 0.95, eps: 1e-3, wd: 0, decoupled: false },
    (ps) => new mg.Adam(ps, { lr: 0.003, betas: [0.8, 0.95], eps: 1e-3 })],
  ['AdamW with the default weight decay 0.01', { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, decoupled: true },
    (ps) => new mg.AdamW(ps, { lr: 0.01 })],
  ['AdamW with strong decay', { lr: 0.02, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.5, decoupled: true },
    (ps) => new mg.AdamW(ps, { lr: 0.02, betas: [0.9, 0.99], weightDecay: 0.5 })],
];

export default cases('optim', [
  ...sgdConfigs.map(([name, h]): [string, () => Promise<void>] => [
    `SGD ${name}: 5 steps vs float64 torch.optim.SGD`,
    async () => {
      const { params, opt } = await runGpu((ps) => new mg.SGD(ps, { lr: h.lr, momentum: h.momentum, dampening: h.dampening, nesterov: h.nesterov, weightDecay: h.wd }), 5);
      const want = shapes.map((_, i) => {
        const p = initial(i);
        const s = { buf: null as Float64Array | null };
        for (let t = 1; t <= 5; t++) sgdRef(p, gradAt(i, t), h, s);
        return p;
      });
      await expectParams(params, want, `SGD ${name}`);
      cleanup(params, opt);
    },
  ]),
  ...adamConfigs.map(([name, h, make]): [string, () => Promise<void>] => [
    `${name}: 6 steps vs float64 torch.optim reference`,
    async () => {
      const { params, opt } = await runGpu(make, 6);
      const want = shapes.map((_, i) => {
        const p = initial(i);
        const s = { m: new Float64Array(p.length), v: new Float64Array(p.length), t: 0 };
        for (let t = 1; t <= 6; t++) adamRef(p, gradAt(i, t), h, s);
        return p;
      });
      await expectParams(params, want, name);
      cleanup(params, opt);
    },
  ]),
  [
    'param groups, per-group lr and decay, null grads skipped, lr changes, in place, no readback, inside tidy',
    async () => {
      const params = shapes.map((s, i) => mg.tensor(initial(i), s, { requiresGrad: true }));
      const buffers = params.map((p) => p.buffer);
      const opt = new mg.Adam([
        { params: params.slice(0, 2), lr: 0.05, weightDecay: 0.2 },
        { params: params.slice(2) },
      ], { lr: 0.01 });
      expectTrue(opt.paramGroups[1]!.weightDecay === 0 && opt.paramGroups[0]!.lr === 0.05, 'group hyper-parameters resolved');
      const hyper = (gi: number, lr: number): AdamHyper => ({ lr, b1: 0.9, b2: 0.999, eps: 1e-8, wd: gi === 0 ? 0.2 : 0, decoupled: false });
      const ref = shapes.map((_, i) => ({ p: initial(i), s: { m: new Float64Array(prod(shapes[i]!)), v: new Float64Array(prod(shapes[i]!)), t: 0 } }));
      const lrs = [[0.05, 0.01], [0.05, 0.01], [0.02, 0.02], [0.003, 0.003]];
      for (let t = 1; t <= 4; t++) {
        if (t === 3) opt.lr = 0.02;
        if (t === 4) opt.setLearningRate(0.003);
        // Parameter 3 gets no gradient on step 2: it must stay put and its state must not advance.
        params.forEach((p, i) => (p.grad = i === 3 && t === 2 ? null : mg.tensor(gradAt(i, t), shapes[i]!)));
        const before = mg.memoryStats().readbacks;
        mg.tidy(() => opt.step());
        expectTrue(mg.memoryStats().readbacks === before, 'step() reads nothing back');
        ref.forEach((r, i) => {
          if (i === 3 && t === 2) return;
          adamRef(r.p, gradAt(i, t), hyper(i < 2 ? 0 : 1, lrs[t - 1]![i < 2 ? 0 : 1]!), r.s);
        });
        opt.zeroGrad();
        expectTrue(params.every((p) => p.grad === null), 'zeroGrad nulls every grad');
      }
      expectTrue(opt.lr === 0.003 && opt.stepCount === 4, 'lr and step count');
      expectTrue(params.every((p, i) => p.buffer === buffers[i]), 'parameters are updated in place');
      await expectParams(params, ref.map((r) => r.p), 'groups');
      const dict = await opt.stateDict();
      expectTrue(dict.params[3]!.step === 3 && dict.params[0]!.step === 4, 'per-parameter step counts');
      cleanup(params, opt);
    },
  ],
  [
    'stateDict / loadStateDict: a restored optimizer continues exactly',
    async () => {
      for (const make of [
        (ps: mg.Tensor[]) => new mg.AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
        (ps: mg.Tensor[]) => new mg.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }),
      ]) {
        const a = await runGpu(make, 3);
        const dict = await a.opt.stateDict();
        expectTrue(dict.step === 3 && dict.kind === a.opt.kind, 'step count and kind saved');
        if (a.opt.kind === 'AdamW') {
          // The saved moments are PyTorch's exp_avg / exp_avg_sq (AdamW keeps both in one GPU buffer).
          const h: AdamHyper = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decoupled: true };
          for (let i = 0; i < shapes.length; i++) {
            const st = { m: new Float64Array(prod(shapes[i]!)), v: new Float64Array(prod(shapes[i]!)), t: 0 };
            const p = initial(i);
            for (let t = 1; t <= 3; t++) adamRef(p, gradAt(i, t), h, st);
            expectClose(dict.params[i]!.buffers.expAvg!, st.m, `saved expAvg [${shapes[i]}]`, 1e-4, 1e-7);
            expectClose(dict.params[i]!.buffers.expAvgSq!, st.v, `saved expAvgSq [${shapes[i]}]`, 1e-4, 1e-9);
          }
        }
        // A fresh optimizer over copies of the parameters, as after loading a checkpoint.
        const copies = await Promise.all(a.params.map(async (p) => mg.tensor(await p.toArray(), p.shape, { requiresGrad: true })));
        const b = make(copies);
        b.loadStateDict(dict);
        for (let t = 4; t <= 5; t++) {
          for (const ps of [a.params, copies]) ps.forEach((p, i) => (p.grad = mg.tensor(gradAt(i, t), shapes[i]!)));
          a.opt.step();
          b.step();
          a.opt.zeroGrad();
          b.zeroGrad();
        }
        for (let i = 0; i < shapes.length; i++) expectClose(await copies[i]!.toArray(), await a.params[i]!.toArray(), `restored ${a.opt.kind} [${shapes[i]}]`, 0, 0);
        const d2 = await b.stateDict();
        expectTrue(d2.step === 5 && d2.params.every((s) => s!.step === 5), 'steps continue from the checkpoint');
        cleanup(a.params, a.opt);
        cleanup(copies, b);
      }
    },
  ],
  [
    'AdamW updating parameters up to five per dispatch gives the bits of one per dispatch',
    async () => {
      // One optimizer over all nine parameters (groups of four and five where the adapter allows) against one
      // optimizer per parameter (always the single-parameter kernel); lr changes between steps.
      const grouped = await runGpu((ps) => new mg.AdamW(ps, { lr: 0.01, weightDecay: 0.05 }), 1);
      const single = shapes.map((s, i) => mg.tensor(initial(i), s, { requiresGrad: true }));
      const singleOpts = single.map((p, i) => new mg.AdamW([p], { lr: 0.01, weightDecay: 0.05, multiTensor: i % 2 === 0 }));
      single.forEach((p, i) => (p.grad = mg.tensor(gradAt(i, 1), shapes[i]!)));
      singleOpts.forEach((o) => o.step());
      singleOpts.forEach((o) => o.zeroGrad());
      for (let t = 2; t <= 4; t++) {
        grouped.opt.lr = 0.01 / t;
        singleOpts.forEach((o) => (o.lr = 0.01 / t));
        grouped.params.forEach((p, i) => (p.grad = mg.tensor(gradAt(i, t), shapes[i]!)));
        single.forEach((p, i) => (p.grad = mg.tensor(gradAt(i, t), shapes[i]!)));
        grouped.opt.step();
        singleOpts.forEach((o) => o.step());
        grouped.opt.zeroGrad();
        singleOpts.forEach((o) => o.zeroGrad());
      }
      for (let i = 0; i < shapes.length; i++) expectClose(await grouped.params[i]!.toArray(), await single[i]!.toArray(), `grouped vs single [${shapes[i]}]`, 0, 0);
      cleanup(grouped.params, grouped.opt);
      single.forEach((p, i) => cleanup([p], singleOpts[i]!));
    },
  ],
  [
    'Adam and AdamW with gradients as deferred partial sums (split-K weight gradients): the kernels sum the parts, vs float64, grouped and single',
    async () => {
      // Parts per parameter: 2, 3, 5 or 17 partial sums [splits, size]; the gradient is their sum.
      const splitsOf = (i: number) => [2, 3, 5, 17][i % 4]!;
      const partsAt = (i: number, t: number) => f32(randomData(splitsOf(i) * prod(shapes[i]!), 5000 * t + i, -1, 1));
      const summed = (i: number, t: number) => {
        const parts = partsAt(i, t);
        const n = prod(shapes[i]!);
        const g = new Float64Array(n);
        for (let q = 0; q < splitsOf(i); q++) for (let j = 0; j < n; j++) g[j] += parts[q * n + j]!;
        return g;
      };
      const configs: [string, AdamHyper, (ps: mg.Tensor[], multiTensor: boolean) => mg.Optimizer][] = [
        [adamConfigs[0]![0], adamConfigs[0]![1], (ps, multiTensor) => new mg.Adam(ps, { lr: 0.01, weightDecay: 0.1, multiTensor })],
        [adamConfigs[3]![0], adamConfigs[3]![1], (ps, multiTensor) => new mg.AdamW(ps, { lr: 0.02, betas: [0.9, 0.99], weightDecay: 0.5, multiTensor })],
      ];
      for (const [name, h, make] of configs) {
        for (const multiTensor of [true, false]) {
          const params = shapes.map((sh, i) => mg.tensor(initial(i), sh, { requiresGrad: true }));
          const base = mg.getDevice().pool.stats().liveBuffers;
          const opt = make(params, multiTensor);
          for (let t = 1; t <= 3; t++) {
            params.forEach((p, i) => {
              const parts = mg.tensor(partsAt(i, t), [splitsOf(i), prod(shapes[i]!)]);
              p.grad = Tensor.deferredSum(shapes[i]!, { parts, splits: splitsOf(i), sum: () => mg.sum(parts, 0) });
            });
            opt.step();
            // The optimizer read the parts: no gradient was summed on its own.
            expectTrue(params.every((p) => p.grad!.deferredSum !== null), `${name}: gradients still deferred after step()`);
            opt.zeroGrad();
          }
          const want = shapes.map((_, i) => {
            const p = initial(i);
            const st = { m: new Float64Array(p.length), v: new Float64Array(p.length), t: 0 };
            for (let t = 1; t <= 3; t++) adamRef(p, summed(i, t), h, st);
            return p;
          });
          await expectParams(params, want, `${name}, deferred sums, multiTensor ${multiTensor}`);
          opt.dispose();
          // zeroGrad released every set of parts: only the parameters are left.
          expectTrue(mg.getDevice().pool.stats().liveBuffers === base, `${name}: parts released (${mg.getDevice().pool.stats().liveBuffers} live buffers, ${base} before)`);
          cleanup(params, opt);
        }
      }
    },
  ],
  [
    'training logits directly with Adam lowers the cross-entropy',
    async () => {
      const w = mg.tensor(randomData(4 * 5, 3, -1, 1), [4, 5], { requiresGrad: true });
      const labels = mg.tensor(new Int32Array([1, 4, 0, 2]), [4]);
      const opt = new mg.Adam([w], { lr: 0.1 });
      const losses: number[] = [];
      for (let t = 0; t < 20; t++) {
        const loss = mg.softmaxCrossEntropy(w, labels, { labelSmoothing: 0.1 });
        losses.push(await loss.item());
        await loss.backward();
        loss.release();
        opt.step();
        opt.zeroGrad();
      }
      expectTrue(losses[19]! < losses[0]! * 0.5, `loss fell from ${losses[0]} to ${losses[19]}`);
      cleanup([w], opt);
      labels.release();
    },
  ],
]);
