/**
 * The pieces of a hand-written training loop: learning-rate schedules and the scheduler, gradient
 * clipping by global norm on the GPU (no readback), state dicts as safetensors, freezing, forward
 * hooks capturing activations.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { expectClose, randomData } from './support/check.js';

beforeAll(async () => {
  await mg.init();
  mg.getDevice().poisonOutputs(true);
});

const { stepDecay, multiStepDecay, cosineDecay, linearWarmup, oneCycle, sequence, product, constant } = mg.schedules;

describe('learning-rate schedules', () => {
  it('step, multi-step, cosine and linear warm-up follow their definitions', () => {
    const s = stepDecay({ stepSize: 10, gamma: 0.5 });
    expect([0, 9, 10, 19, 20, 35].map(s)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect([0, 4, 5, 7, 8].map(multiStepDecay({ milestones: [5, 8], gamma: 0.1 })).map((v) => +v.toPrecision(12))).toEqual([1, 1, 0.1, 0.1, 0.01]);
    const c = cosineDecay({ steps: 100, floor: 0.01 });
    for (const t of [0, 13, 50, 77, 100, 150]) expect(c(t)).toBeCloseTo(0.01 + 0.99 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 100)) / 100)), 12);
    expect(c(50)).toBeCloseTo(0.505, 12);
    const w = linearWarmup({ steps: 4, startFactor: 0.2 });
    expect([0, 1, 2, 3, 4, 9].map(w).map((v) => +v.toFixed(12))).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1]);
  });

  it('one-cycle: up from max/25 to max over 30 %, down to max/25/1e4 at the last step', () => {
    const o = oneCycle({ steps: 100 });
    expect(o(0)).toBeCloseTo(1 / 25, 12);
    expect(o(29)).toBeCloseTo(1, 12); // PyTorch's peak: step pct*steps - 1
    expect(o(99)).toBeCloseTo(1 / 25 / 1e4, 12);
    for (let t = 1; t <= 29; t++) expect(o(t)).toBeGreaterThan(o(t - 1));
    for (let t = 30; t <= 99; t++) expect(o(t)).toBeLessThan(o(t - 1));
    // Midway down: halfway between the peak and the end (cosine annealing).
    expect(o(29 + 35)).toBeCloseTo((1 + 1 / 25 / 1e4) / 2, 12);
  });

  it('schedules compose: warm-up then cosine; products', () => {
    const s = sequence([[linearWarmup({ steps: 10 }), 10]], cosineDecay({ steps: 90 }));
    expect(s(0)).toBeCloseTo(0.1, 12);
    expect(s(9)).toBeCloseTo(0.1 + 0.9 * 0.9, 12);
    expect(s(10)).toBe(1);
    expect(s(55)).toBeCloseTo(0.5, 12);
    expect(s(100)).toBeCloseTo(0, 12);
    const p = product(stepDecay({ stepSize: 2, gamma: 0.5 }), linearWarmup({ steps: 2, startFactor: 0.5 }), constant());
    expect([0, 1, 2, 3].map(p)).toEqual([0.5, 0.75, 0.5, 0.5]);
    expect(() => cosineDecay({ steps: 0 })).toThrow(/steps must be a positive integer/);
  });

  it('LRScheduler sets each group from its own base rate, and saves and restores its position', () => {
    const a = mg.tensor([1, 2], [2], { requiresGrad: true });
    const b = mg.tensor([3], [1], { requiresGrad: true });
    const opt = new mg.SGD([{ params: [a], lr: 0.1 }, { params: [b], lr: 0.02 }], { lr: 1 });
    const sched = new mg.LRScheduler(opt, stepDecay({ stepSize: 2, gamma: 0.1 }));
    const seen: number[][] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(sched.lastLrs.map((v) => +v.toPrecision(10)));
      sched.step();
    }
    expect(seen).toEqual([[0.1, 0.02], [0.1, 0.02], [0.01, 0.002], [0.01, 0.002], [0.001, 0.0002]]);
    const saved = sched.stateDict();
    const opt2 = new mg.SGD([{ params: [a], lr: 0.1 }, { params: [b], lr: 0.02 }], { lr: 1 });
    const sched2 = new mg.LRScheduler(opt2, stepDecay({ stepSize: 2, gamma: 0.1 }));
    sched2.loadStateDict(saved);
    expect(sched2.lastLrs).toEqual(sched.lastLrs);
    expect(() => new mg.LRScheduler(opt, () => NaN)).toThrow(/schedule gave NaN at step 0/);
    a.release();
    b.release();
  });
});

describe('clipGradNorm', () => {
  // Sizes that split over several workgroups, one element, and a parameter without a gradient.
  const sizes = [[1], [37], [61, 83], [300, 257]];

  async function setup(scale: number) {
    const params = sizes.map((s, i) => mg.tensor(randomData(s.reduce((a, b) => a * b, 1), 10 + i), s, { requiresGrad: true }));
    const host = sizes.map((s, i) => randomData(s.reduce((a, b) => a * b, 1), 20 + i, -scale, scale));
    params.forEach((p, i) => (p.grad = mg.tensor(host[i]!, sizes[i]!)));
    const noGrad = mg.tensor([1, 2, 3], [3], { requiresGrad: true });
    let sq = 0;
    for (const h of host) for (const v of h) sq += v * v;
    return { params: [...params, noGrad], host, norm: Math.sqrt(sq) };
  }

  for (const [what, scale, maxNorm] of [['clips a large norm', 1, 5], ['leaves a small norm alone', 0.01, 100]] as const) {
    it(`${what}, on the GPU with no readback`, async () => {
      const { params, host, norm } = await setup(scale);
      await mg.sync();
      const readbacks = mg.memoryStats().readbacks;
      const n = mg.clipGradNorm(params, maxNorm);
      expect(mg.memoryStats().readbacks).toBe(readbacks);
      expect(n.shape).toEqual([]);
      expect(Math.abs((await n.item()) - norm) / norm).toBeLessThan(1e-5);
      const coef = Math.min(1, maxNorm / (norm + 1e-6));
      if (scale === 1) expect(coef).toBeLessThan(0.1);
      else expect(coef).toBe(1);
      for (let i = 0; i < host.length; i++) expectClose(await params[i]!.grad!.toArray(), host[i]!.map((v) => v * coef), `grad ${i}`, 1e-5, 1e-7);
      expect(params[4]!.grad).toBeNull();
      n.release();
      for (const p of params) {
        p.grad?.release();
        p.release();
      }
    });
  }

  it('refuses a bad maxNorm', () => {
    expect(() => mg.clipGradNorm([], 0)).toThrow(/maxNorm must be a positive number/);
  });
});

/** A little of everything that has a PyTorch layout: general, depthwise, pointwise conv, BN, linear. */
class Small extends mg.nn.Module {
  readonly body: mg.nn.Sequential;
  readonly head: mg.nn.Linear;
  constructor() {
    super();
    this.body = this.addModule('body', new mg.nn.Sequential([
      new mg.nn.Conv2d(3, 8, 3, { stride: 2 }), new mg.nn.BatchNorm2d(8), new mg.nn.Activation('hswish'),
      new mg.nn.Conv2d(8, 8, 3, { groups: 8 }), new mg.nn.Conv2d(8, 6, 1, { padding: 0, bias: true }),
    ]));
    this.head = this.addModule('head', new mg.nn.Linear(6, 3));
  }
  forward(x: mg.Tensor): mg.Tensor {
    return this.head.call(mg.globalAvgPool(this.body.call(x)));
  }
}

async function snapshot(m: mg.nn.Module): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [n, t] of m.stateTensors()) out.set(n, Array.from(await t.toArray()));
  return out;
}

describe('state dicts, freezing, hooks', () => {
  it('save and load round-trip every parameter and buffer, in PyTorch layout, in place', async () => {
    mg.seed(1);
    const a = new Small();
    // Train a step so the BatchNorm running statistics differ from their initial values.
    const x = mg.randn([2, 9, 9, 3], { seed: 4 });
    const opt = new mg.AdamW(a.parameters(), { lr: 0.01 });
    mg.tidy(() => {
      void mg.sum(a.call(x)).backward();
      opt.step();
      opt.zeroGrad();
    });
    const bytes = await mg.nn.saveStateDict(a);
    const header = parseSafetensors(bytes).tensors;
    expect(header.get('body.0.weight')!.shape).toEqual([8, 3, 3, 3]); // OIHW
    expect(header.get('body.3.weight')!.shape).toEqual([8, 1, 3, 3]); // depthwise
    expect(header.get('body.4.weight')!.shape).toEqual([6, 8, 1, 1]);
    expect(header.get('head.weight')!.shape).toEqual([3, 6]); // [out, in]
    expect(header.has('body.1.running_mean')).toBe(true);

    mg.seed(2);
    const b = new Small();
    const headWeight = b.head.parameters()[0]!;
    const rep = mg.nn.loadStateDict(b, Buffer.from(bytes)); // as readFileSync gives it
    expect(rep.missing).toEqual([]);
    expect(rep.loaded.length).toBe(a.stateTensors().size);
    expect(b.head.parameters()[0]).toBe(headWeight); // loaded in place
    const [sa, sb] = [await snapshot(a), await snapshot(b)];
    for (const [n, v] of sa) expect(sb.get(n), n).toEqual(v);
    const ya = await a.eval().call(x).toArray();
    const yb = await b.eval().call(x).toArray();
    expect(Array.from(yb)).toEqual(Array.from(ya));
    a.release();
    b.release();
    x.release();
  });

  it('load refuses missing, unexpected and wrongly shaped tensors, naming them', async () => {
    const a = new Small();
    const bytes = await mg.nn.saveStateDict(a);
    class Other extends Small {
      readonly extra = this.addModule('extra', new mg.nn.Linear(2, 2));
    }
    const o = new Other();
    expect(() => mg.nn.loadStateDict(o, bytes)).toThrow(/missing extra\.weight, extra\.bias; pass \{ strict: false \}/);
    const rep = mg.nn.loadStateDict(o, bytes, { strict: false });
    expect(rep.missing).toEqual(['extra.weight', 'extra.bias']);
    const ob = await mg.nn.saveStateDict(o);
    expect(() => mg.nn.loadStateDict(a, ob)).toThrow(/unexpected extra\.weight, extra\.bias/);
    class Wider extends mg.nn.Module {
      readonly head = this.addModule('head', new mg.nn.Linear(6, 4));
      forward(x: mg.Tensor) {
        return x;
      }
    }
    expect(() => mg.nn.loadStateDict(new Wider(), bytes, { strict: false })).toThrow(/'head\.weight' has shape \[3, 6\], the module expects \[4, 6\]/);
    a.release();
    o.release();
  });

  it('a frozen backbone does not move; the head trains', async () => {
    mg.seed(5);
    const m = new Small();
    m.body.setRequiresGrad(false);
    const before = await snapshot(m.body);
    const headBefore = await snapshot(m.head);
    const opt = new mg.SGD(m.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });
    const x = mg.randn([2, 9, 9, 3], { seed: 6 });
    const labels = mg.tensor(Int32Array.from([0, 2]), [2]);
    for (let i = 0; i < 3; i++) {
      mg.tidy(() => {
        void mg.softmaxCrossEntropy(m.call(x), labels).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
    const after = await snapshot(m.body);
    for (const [n, v] of before) if (!n.includes('running')) expect(after.get(n), n).toEqual(v);
    const headAfter = await snapshot(m.head);
    expect(headAfter.get('weight')).not.toEqual(headBefore.get('weight'));
    for (const p of m.body.parameters()) expect(p.grad).toBeNull();
    [x, labels].forEach((t) => t.release());
    m.release();
  });

  it('forward hooks capture activations of MobileNetV3-Small blocks, and can be removed', async () => {
    mg.seed(7);
    const model = mg.models.mobilenetV3Small({ numClasses: 4 }).eval();
    const captured: [string, mg.Tensor][] = [];
    const removers = model.features.layers.map((block, i) =>
      block.addForwardHook((_m, _in, out) => captured.push([`features.${i}`, mg.keep(out.view(out.shape))])),
    );
    const x = mg.randn([2, 32, 32, 3], { seed: 8 });
    const logits = mg.tidy(() => model.call(x));
    expect(captured.map(([n]) => n)).toEqual(model.features.layers.map((_, i) => `features.${i}`));
    expect(captured[0]![1].shape).toEqual([2, 16, 16, 16]);
    expect(captured[1]![1].shape).toEqual([2, 8, 8, 16]);
    expect(captured[12]![1].shape).toEqual([2, 1, 1, 576]);
    // A captured activation is the block's real output: feeding block 4's into block 5 gives block 5's.
    const again = mg.tidy(() => model.features.layers[5]!.call(captured[4]![1]));
    expect(Array.from(await again.toArray())).toEqual(Array.from(await captured[5]![1].toArray()));
    expect(captured.length).toBe(14); // 13 layers, then the block-5 call above
    for (const r of removers) r();
    mg.tidy(() => model.call(x)).release();
    expect(captured.length).toBe(14);
    for (const [, t] of captured) t.release();
    [x, logits, again].forEach((t) => t.release());
    model.release();
  });
});
