/**
 * The engine as a whole: a small conv net trains, memory does not grow, declarations agree with
 * their WGSL, errors are clear, gradcheck catches a wrong backward, dispatches can be captured
 * and replayed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { BatchNorm2d } from '../src/nn/batchnorm.js';
import { Conv2d } from '../src/nn/conv.js';
import { Activation, Linear, SqueezeExcitation } from '../src/nn/layers.js';
import { Module, Sequential } from '../src/nn/module.js';
import { AdamW } from '../src/optim/adam.js';
import { sumSplits } from '../src/ops/elementwise.js';
import '../test/cases/all.js'; // declares every kernel

class TinyNet extends Module {
  readonly body: Sequential;
  readonly head: Linear;
  constructor() {
    super();
    this.body = this.addModule('body', new Sequential([
      new Conv2d(3, 8, 3, { stride: 2 }), new BatchNorm2d(8, { momentum: 0.1 }), new Activation('hswish'),
      new Conv2d(8, 8, 3, { groups: 8 }), new BatchNorm2d(8, { momentum: 0.1 }), new Activation('relu'),
      new SqueezeExcitation(8, 8),
      new Conv2d(8, 12, 1, { padding: 0 }), new BatchNorm2d(12, { momentum: 0.1 }), new Activation('hswish'),
    ]));
    this.head = this.addModule('head', new Linear(12, 4, 'kaiming'));
  }
  forward(x: mg.Tensor): mg.Tensor {
    return this.head.call(mg.globalAvgPool(this.body.call(x)));
  }
}

beforeAll(async () => {
  await mg.init();
  mg.seed(3);
});

describe('engine', () => {
  it('trains a small conv net 200 steps: loss below a tenth of its start, no memory growth', async () => {
    const net = new TinyNet();
    const kinds = net.namedModules().map(([, m]) => (m instanceof Conv2d ? m.kind : '')).filter(Boolean);
    expect(kinds).toEqual(['general', 'depthwise', 'pointwise']);
    const opt = new AdamW(net.parameters(), { lr: 0.01, weightDecay: 0 });
    const x = mg.keep(mg.randn([8, 15, 17, 3], { seed: 5 }));
    const y = mg.keep(mg.tensor(Int32Array.from([0, 1, 2, 3, 3, 2, 1, 0]), [8]));
    const losses: number[] = [];
    let liveAt10 = -1;
    for (let step = 0; step < 200; step++) {
      const loss = mg.tidy(() => {
        const l = mg.softmaxCrossEntropy(net.call(x), y);
        void l.backward();
        opt.step();
        opt.zeroGrad();
        return l;
      });
      if (step % 10 === 0 || step === 199) losses.push(await loss.item());
      loss.release();
      if (step === 9) liveAt10 = mg.memoryStats().liveBuffers;
    }
    const liveAt200 = mg.memoryStats().liveBuffers;
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 10);
    expect(liveAt200).toBe(liveAt10);
    x.release();
    y.release();
  });

  it('every declared kernel agrees with its WGSL; a wrong declaration is reported', () => {
    const kernels = mg.declaredKernels();
    expect(kernels.length).toBeGreaterThan(25);
    for (const k of kernels) expect(k.verify(), k.name).toEqual([]);
    const src = '@group(0) @binding(0) var<storage, read> a: array<f32>;\n@group(0) @binding(1) var<storage, read_write> b: array<f32>;\n' +
      'struct P { n: u32 }\n@group(0) @binding(2) var<uniform> p: P;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < p.n) { b[g.x] = a[g.x]; } }';
    const wrong = new mg.Kernel({ name: 'copy_wrong', source: src, inputs: ['a', 'b'], outputs: [], uniforms: ['n', 'm'], workgroups: () => [1, 1, 1] });
    const problems = wrong.verify().join('\n');
    expect(problems).toMatch(/'b' is declared read but the WGSL has read_write/);
    expect(problems).toMatch(/declared uniform 'm' is not in the WGSL/);
    const right = new mg.Kernel({ name: 'copy', source: src, inputs: ['a'], outputs: ['b'], uniforms: ['n'], workgroups: () => [1, 1, 1] });
    expect(right.verify()).toEqual([]);
  });

  it('a user kernel runs through the same path as built-in ones', async () => {
    const k = mg.defineKernel({
      name: 'user_square',
      source: 'struct P { n: u32 }\n@group(0) @binding(0) var<storage, read> x: array<f32>;\n@group(0) @binding(1) var<storage, read_write> y: array<f32>;\n@group(0) @binding(2) var<uniform> p: P;\n' +
        '@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < p.n) { y[g.x] = x[g.x] * x[g.x]; } }',
      inputs: ['x'], outputs: ['y'], uniforms: ['n'], workgroups: (u) => mg.grid1d(u.n!, 64),
    });
    const x = mg.tensor([1.5, -2, 3, 0.25, 7], [5]);
    const y = mg.runKernel1(k, { x }, { shape: [5] }, { n: 5 });
    expect(Array.from(await y.toArray())).toEqual([2.25, 4, 9, 0.0625, 49]);
  });

  it('a shader error becomes an exception naming the kernel', async () => {
    const bad = mg.defineKernel({
      name: 'broken_kernel',
      source: '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\n@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { let v: f32 = 1u; y[g.x] = v; }',
      inputs: [], outputs: ['y'], workgroups: () => [1, 1, 1],
    });
    const y = mg.runKernel1(bad, {}, { shape: [64] });
    await expect(y.toArray()).rejects.toThrow(/broken_kernel/);
    // The device stays usable afterwards.
    const ok = mg.add(mg.tensor([1, 2], [2]), 1);
    expect(Array.from(await ok.toArray())).toEqual([2, 3]);
  });

  it('plain errors: released tensors, shape mismatches, backward through no-grad results', async () => {
    const a = mg.tensor([1, 2, 3], [3]);
    a.release();
    expect(() => mg.add(a, 1)).toThrow(/released/);
    expect(() => mg.add(mg.zeros([2, 3]), mg.zeros([4]))).toThrow(/\[2, 3\] and \[4\] do not broadcast/);
    const w = mg.tensor([1, 2], [2], { requiresGrad: true });
    const z = mg.noGrad(() => mg.sum(mg.mul(w, 2)));
    await expect(z.backward()).rejects.toThrow(/does not require grad/);
  });

  it('gradcheck fails loudly on a wrong backward', async () => {
    const wrongSquare = (x: mg.Tensor) => {
      const y = mg.noGrad(() => mg.mul(x, x));
      return mg.attach(y, 'wrong_square', [x], (g) => [mg.noGrad(() => mg.mul(g, x))]); // should be 2*x*g
    };
    const x = mg.tensor([0.5, -1.2, 2.0, 0.7], [4]);
    await expect(mg.gradcheck(wrongSquare, [x])).rejects.toThrow(/gradcheck failed/);
    const report = await mg.gradcheck((t) => mg.mul(t, t), [x]);
    expect(report.ok).toBe(true);
    expect(report.worst[0]).toBeLessThan(1e-2);
  });

  it('tidy releases temporaries; keep and returned tensors survive', async () => {
    const before = mg.memoryStats().liveBuffers;
    let kept: mg.Tensor | null = null;
    const out = mg.tidy(() => {
      const t = mg.ones([7, 5]);
      kept = mg.keep(mg.mul(t, 3));
      mg.add(t, 1);
      return mg.sum(t);
    });
    expect(mg.memoryStats().liveBuffers).toBe(before + 2);
    expect(await out.item()).toBe(35);
    expect(Array.from(await kept!.toArray()).every((v) => v === 3)).toBe(true);
    out.release();
    kept!.release();
    expect(mg.memoryStats().liveBuffers).toBe(before);
  });

  it('a deferred split sum is computed on first use (read, kernel input, view) and frees its parts', async () => {
    const parts = (seed: number) => mg.randn([5, 3, 7], { seed }); // 5 partial sums of a [3, 7] tensor
    const want = async (p: mg.Tensor) => {
      const a = (await p.toArray()) as Float32Array;
      return Array.from({ length: 21 }, (_, j) => [0, 1, 2, 3, 4].reduce((s, q) => s + a[q * 21 + j]!, 0));
    };
    const before = mg.memoryStats().liveBuffers;
    const close = (got: ArrayLike<number>, ref: number[], shift = 0) => ref.every((v, j) => Math.abs(got[j]! - (v + shift)) < 1e-5 * (1 + Math.abs(v)));
    // Read back.
    const p1 = parts(1);
    const ref1 = await want(p1);
    const d1 = sumSplits(p1, 5, [3, 7]);
    expect(d1.deferredSum?.splits).toBe(5);
    expect(d1.released).toBe(false);
    expect(close(await d1.toArray(), ref1)).toBe(true);
    expect(d1.deferredSum).toBe(null);
    // As a kernel's input, and through a view.
    const p2 = parts(2);
    const ref2 = await want(p2);
    const d2 = sumSplits(p2, 5, [3, 7]);
    const y = mg.add(d2, 1);
    expect(close(await y.toArray(), ref2, 1)).toBe(true);
    const p3 = parts(3);
    const ref3 = await want(p3);
    const d3 = sumSplits(p3, 5, [3, 7]);
    const v = mg.reshape(d3, [21]);
    expect(close(await v.toArray(), ref3)).toBe(true);
    for (const t of [d1, d2, y, d3, v]) t.release();
    // Released unused: the parts go back to the pool, and the tensor reads as released.
    const d4 = sumSplits(parts(4), 5, [3, 7]);
    d4.release();
    expect(d4.released).toBe(true);
    expect(() => d4.buffer).toThrow(/released/);
    expect(mg.memoryStats().liveBuffers).toBe(before);
  });

  it('records a sequence of dispatches once and replays it', async () => {
    const dev = mg.getDevice();
    const x = mg.tensor([1, 2, 3, 4, 5, 6, 7], [7]);
    const s0 = mg.memoryStats();
    dev.dispatcher.startCapture();
    const y = mg.noGrad(() => mg.hswish(mg.add(mg.mul(x, 2), 1)));
    const rec = dev.dispatcher.stopCapture();
    const s1 = mg.memoryStats();
    expect(rec.length).toBe(3);
    expect(s1.dispatches - s0.dispatches).toBe(3);
    const first = Array.from(await y.toArray());
    // Change the input in place, replay: the same buffers are recomputed with no JavaScript ops.
    dev.write(x.buffer.buffer, new Float32Array([-1, -2, -3, 0, 1, 2, 3]));
    dev.dispatcher.replay(rec);
    const second = Array.from(await y.toArray());
    const hs = (v: number) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
    expect(first).toEqual([1, 2, 3, 4, 5, 6, 7].map((v) => Math.fround(hs(2 * v + 1))));
    expect(second.map((v) => +v.toFixed(5))).toEqual([-1, -2, -3, 0, 1, 2, 3].map((v) => +hs(2 * v + 1).toFixed(5)));
  });

  it('init reports the adapter, features and raised limits', async () => {
    const r = await mg.init();
    expect(r.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(r.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(Array.isArray(r.features)).toBe(true);
  });
});
