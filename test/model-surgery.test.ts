/**
 * Model surgery through the config table: width multipliers against torchvision's own parameter
 * formula, per-block activation and SE honoured, a custom activation op swapped in, a block
 * replaced through the block factory, a linear probe on a frozen pretrained backbone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { randomData } from './support/check.js';

beforeAll(async () => {
  await mg.init();
  mg.getDevice().poisonOutputs(true);
});

/**
 * torchvision's mobilenet_v3_small parameter count, transcribed from torchvision/models/mobilenetv3.py
 * (InvertedResidualConfig.adjust_channels, _make_divisible, last_channel = adjust_channels(1024),
 * lastconv = 6 x last block's out, SE squeeze = _make_divisible(expanded // 4, 8)), independently
 * of src/models/mobilenet-v3-config.ts.
 */
function torchvisionParams(width: number, classes: number): number {
  const makeDivisible = (v: number, d = 8) => {
    let n = Math.max(d, Math.trunc(Math.trunc(v + d / 2) / d) * d);
    if (n < 0.9 * v) n += d;
    return n;
  };
  const adj = (c: number) => makeDivisible(c * width);
  // input, kernel, expanded, out, use_se, stride
  const setting: [number, number, number, number, boolean][] = [
    [16, 3, 16, 16, true], [16, 3, 72, 24, false], [24, 3, 88, 24, false], [24, 5, 96, 40, true], [40, 5, 240, 40, true],
    [40, 5, 240, 40, true], [40, 5, 120, 48, true], [48, 5, 144, 48, true], [48, 5, 288, 96, true], [96, 5, 576, 96, true], [96, 5, 576, 96, true],
  ];
  let p = 3 * 3 * 3 * adj(16) + 2 * adj(16);
  for (const [i, k, e, o, se] of setting) {
    const [ci, ce, co] = [adj(i), adj(e), adj(o)];
    if (ce !== ci) p += ci * ce + 2 * ce;
    p += k * k * ce + 2 * ce;
    if (se) {
      const sq = makeDivisible(Math.trunc(ce / 4));
      p += ce * sq + sq + sq * ce + ce;
    }
    p += ce * co + 2 * co;
  }
  const lastIn = adj(96);
  const lastConv = 6 * lastIn;
  const hidden = adj(1024);
  return p + lastIn * lastConv + 2 * lastConv + lastConv * hidden + hidden + hidden * classes + classes;
}

describe('model surgery through the config table', () => {
  it('width multipliers 0.5, 0.75, 1.0 have torchvision\'s parameter counts', () => {
    expect(torchvisionParams(1, 1000)).toBe(2_542_856);
    expect(torchvisionParams(1, 10)).toBe(1_528_106);
    for (const w of [0.5, 0.75, 1.0]) {
      for (const classes of [1000, 10]) {
        const model = mg.models.mobilenetV3Small({ numClasses: classes, widthMultiplier: w });
        expect(model.parameterCount(), `width ${w}, ${classes} classes`).toBe(torchvisionParams(w, classes));
        expect(mg.models.describeMobileNetV3Small({ numClasses: classes, widthMultiplier: w }).params).toBe(model.parameterCount());
        model.release();
      }
    }
  });

  it('honours per-block activation and SE', async () => {
    const blocks = mg.models.MOBILENET_V3_SMALL.map((b, i) => (i === 3 ? { ...b, activation: 'relu6' as const, se: false } : b));
    const base = mg.models.mobilenetV3Small({ numClasses: 4 });
    const model = mg.models.mobilenetV3Small({ numClasses: 4, blocks });
    const b4 = model.features.layers[4] as mg.models.InvertedResidual;
    const layers = b4.block.layers;
    expect(layers.some((l) => l instanceof mg.nn.SqueezeExcitation)).toBe(false);
    expect(layers.map((l) => (l as mg.models.ConvBNAct).act)).toEqual(['relu6', 'relu6', 'identity']);
    const se = (base.features.layers[4] as mg.models.InvertedResidual).block.layers[2] as mg.nn.SqueezeExcitation;
    expect(base.parameterCount() - model.parameterCount()).toBe(se.parameterCount());
    expect(model.namedParameters().some(([n]) => n.startsWith('features.4.block.2.fc1'))).toBe(false);
    // relu6 runs fused into BatchNorm: the depthwise stage's outputs lie in [0, 6].
    const x = mg.randn([1, 32, 32, 3], { seed: 2 });
    let dwOut: mg.Tensor | null = null;
    layers[1]!.addForwardHook((_m, _i, y) => (dwOut = mg.keep(y.view(y.shape))));
    const y = mg.tidy(() => model.eval().call(x));
    const v = (await dwOut!.toArray()) as Float32Array;
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(6);
    [x, y, dwOut!].forEach((t) => t.release());
    base.release();
    model.release();
  });

  it('a custom activation op goes into the blocks the table names, and trains', async () => {
    let calls = 0;
    const softsign = mg.defineOp({
      name: 'surgery_softsign',
      inputs: ['x'],
      forward: {
        source: `struct P { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i < p.n) { y[i] = x[i] / (1.0 + abs(x[i])); }
}`,
      },
      // d/dx x/(1+|x|) = 1/(1+|x|)^2, composed from existing ops (|x| = relu(x) + relu(-x)).
      backward: (dy, { inputs }) => {
        const tmp: mg.Tensor[] = [];
        const t = <T extends mg.Tensor>(v: T) => (tmp.push(v), v);
        const x = inputs.x!;
        const den = t(mg.add(t(mg.add(t(mg.relu(x)), t(mg.relu(t(mg.mul(x, -1)))))), 1));
        const g = mg.div(dy, t(mg.mul(den, den)));
        tmp.forEach((v) => v.release());
        return [g];
      },
    });
    const custom: mg.models.CustomActivation = { name: 'softsign', apply: (t) => (calls++, softsign(t)) };
    const x = mg.tensor(randomData(24, 9, -3, 3), [2, 3, 4]);
    await softsign.gradcheck([x]);
    x.release();
    const blocks = mg.models.MOBILENET_V3_SMALL.map((b) => (b.activation === 'hswish' ? { ...b, activation: custom } : b));
    const model = mg.models.mobilenetV3Small({ numClasses: 3, blocks });
    const standard = mg.models.mobilenetV3Small({ numClasses: 3 });
    expect(model.parameterCount()).toBe(standard.parameterCount());
    expect(model.namedParameters().map(([n]) => n)).toEqual(standard.namedParameters().map(([n]) => n));
    const opt = new mg.AdamW(model.parameters(), { lr: 1e-3 });
    const xb = mg.randn([2, 32, 32, 3], { seed: 3 });
    const labels = mg.tensor(Int32Array.from([0, 2]), [2]);
    const before = await model.parameters()[0]!.toArray();
    const loss = mg.tidy(() => {
      const l = mg.softmaxCrossEntropy(model.call(xb), labels);
      void l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
    expect(Number.isFinite(await loss.item())).toBe(true);
    // 8 h-swish blocks, each with expansion and depthwise activations: 16 calls.
    expect(calls).toBe(16);
    expect(Array.from(await model.parameters()[0]!.toArray())).not.toEqual(Array.from(before));
    [xb, labels, loss].forEach((t) => t.release());
    opt.dispose();
    model.release();
    standard.release();
  });

  it('a block replaced through the block factory', async () => {
    // Block 6 (40 -> 40, stride 1) becomes a depthwise-separable pair, torchvision-style names inside.
    class Separable extends mg.nn.Module {
      readonly dw: mg.models.ConvBNAct;
      readonly pw: mg.models.ConvBNAct;
      constructor(cfg: mg.models.ResolvedBlockConfig, m: number) {
        super();
        this.dw = this.addModule('dw', new mg.models.ConvBNAct(cfg.in, cfg.in, 3, cfg.stride, cfg.in, 'relu', m));
        this.pw = this.addModule('pw', new mg.models.ConvBNAct(cfg.in, cfg.out, 1, 1, 1, 'identity', m));
      }
      forward(x: mg.Tensor): mg.Tensor {
        return this.pw.call(this.dw.call(x));
      }
    }
    const seen: number[] = [];
    const model = mg.models.mobilenetV3Small({
      numClasses: 5,
      blockFactory: (cfg, i, m) => {
        seen.push(i);
        return i === 5 ? new Separable(cfg, m) : undefined;
      },
    });
    expect(seen).toEqual([...Array(11).keys()]);
    expect(model.features.layers[6]).toBeInstanceOf(Separable);
    expect(model.features.layers[5]).toBeInstanceOf(mg.models.InvertedResidual);
    const names = model.namedParameters().map(([n]) => n).filter((n) => n.startsWith('features.6.'));
    expect(names).toEqual(['features.6.dw.0.weight', 'features.6.dw.1.weight', 'features.6.dw.1.bias', 'features.6.pw.0.weight', 'features.6.pw.1.weight', 'features.6.pw.1.bias']);
    const x = mg.randn([2, 32, 32, 3], { seed: 4 });
    const y = mg.tidy(() => model.call(x));
    expect(y.shape).toEqual([2, 5]);
    [x, y].forEach((t) => t.release());
    model.release();
  });

  it('linear probe: pretrained backbone frozen (eval-mode BatchNorm), a new head trains', async () => {
    // "Pretrained" weights: another model's state dict, saved in torchvision names and layouts.
    mg.seed(11);
    const donor = mg.models.mobilenetV3Small({ numClasses: 1000 });
    const weights = await mg.nn.saveStateDict(donor);
    mg.seed(12);
    const model = mg.models.mobilenetV3Small({ numClasses: 3 });
    const rep = mg.loadWeights(model, weights);
    expect(rep.reinitialized).toEqual(['classifier.3.weight', 'classifier.3.bias']);
    // Freeze everything but the new last layer; the backbone's BatchNorm keeps its statistics.
    model.setRequiresGrad(false);
    const head = model.classifier.layers[3]!;
    head.setRequiresGrad(true);
    const trainable = model.parameters().filter((p) => p.requiresGrad);
    expect(trainable.length).toBe(2);
    const opt = new mg.AdamW(trainable, { lr: 0.01 });
    const frozen = new Map<string, number[]>();
    for (const [n, t] of model.features.stateTensors()) frozen.set(n, Array.from(await t.toArray()));
    const donorFeatures = new Map<string, number[]>();
    for (const [n, t] of donor.features.stateTensors()) donorFeatures.set(n, Array.from(await t.toArray()));
    const x = mg.randn([4, 32, 32, 3], { seed: 13 });
    const labels = mg.tensor(Int32Array.from([0, 1, 2, 1]), [4]);
    const losses: number[] = [];
    for (let s = 0; s < 8; s++) {
      model.train();
      model.features.eval();
      const l = mg.tidy(() => {
        const loss = mg.softmaxCrossEntropy(model.call(x), labels);
        void loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss;
      });
      losses.push(await l.item());
      l.release();
    }
    expect(losses[7]!).toBeLessThan(losses[0]!);
    for (const [n, t] of model.features.stateTensors()) {
      const now = Array.from(await t.toArray());
      expect(now, n).toEqual(frozen.get(n));
      expect(now, n).toEqual(donorFeatures.get(n));
    }
    [x, labels].forEach((t) => t.release());
    opt.dispose();
    model.release();
    donor.release();
  });
});
