/**
 * mg.defineOp: a user's WGSL op with a WGSL backward is a first-class op (float64 reference,
 * gradcheck passing when the backward is right and failing when it is wrong), backward kernels run
 * only for inputs that need them, composed backward rules, pipeline caching, the registry, and
 * errors that name the op, the shapes and the caller's line (bad shapes, dtypes, released tensors,
 * tensors of another device, backward through no-grad results or a used graph).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { expectClose, randomData } from './support/check.js';

beforeAll(async () => {
  await mg.init();
  mg.getDevice().poisonOutputs(true);
});

// swish with a slope: y = x * sigmoid(beta * x). A 2-D grid rebuilds the linear id (as built-ins do).
const SWISH_FWD = /* wgsl */ `
struct P { n: u32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= p.n) { return; }
  let s = 1.0 / (1.0 + exp(-p.beta * x[i]));
  y[i] = x[i] * s;
}`;

const swishBackward = (expr: string) => /* wgsl */ `
struct P { n: u32, beta: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= p.n) { return; }
  let v = x[i];
  let s = 1.0 / (1.0 + exp(-p.beta * v));
  dx[i] = dy[i] * (${expr});
}`;

const swish = mg.defineOp({
  name: 'test_swish',
  inputs: ['x'],
  attrs: { beta: 1 },
  forward: { source: SWISH_FWD },
  backward: { source: swishBackward('s + p.beta * v * s * (1.0 - s)') },
});

// Deliberately wrong: forgets the derivative of the sigmoid.
const swishWrong = mg.defineOp({
  name: 'test_swish_wrong_backward',
  inputs: ['x'],
  attrs: { beta: 1 },
  forward: { source: SWISH_FWD },
  backward: { source: swishBackward('s') },
});

// a * b (same shapes), one backward kernel per input: each runs only when its input needs a gradient.
const elemFn = (body: string, bindings: string) => /* wgsl */ `
struct P { n: u32 }
${bindings}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= p.n) { return; }
  ${body}
}`;
const rd = (name: string, b: number) => `@group(0) @binding(${b}) var<storage, read> ${name}: array<f32>;`;
const wr = (name: string, b: number) => `@group(0) @binding(${b}) var<storage, read_write> ${name}: array<f32>;`;
const un = (b: number) => `@group(0) @binding(${b}) var<uniform> p: P;`;

const product = mg.defineOp({
  name: 'test_product',
  inputs: ['a', 'b'],
  check: (t) => (t.a!.shape.join() === t.b!.shape.join() ? undefined : 'a and b must have the same shape'),
  forward: { source: elemFn('out[i] = a[i] * b[i];', [rd('a', 0), rd('b', 1), wr('out', 2), un(3)].join('\n')) },
  backward: [
    { source: elemFn('da[i] = dout[i] * b[i];', [rd('b', 0), rd('dout', 1), wr('da', 2), un(3)].join('\n')) },
    { source: elemFn('db[i] = dout[i] * a[i];', [rd('a', 0), rd('dout', 1), wr('db', 2), un(3)].join('\n')) },
  ],
});

// Backward composed of existing ops: y = a + alpha * b.
const axpy = mg.defineOp({
  name: 'test_axpy',
  inputs: ['a', 'b'],
  attrs: { alpha: 2 },
  output: (t) => ({ shape: t.a!.shape }),
  forward: { source: elemFn('y[i] = a[i] + p.alpha * b[i];', [rd('a', 0), rd('b', 1), wr('y', 2), '@group(0) @binding(3) var<uniform> p: Q;'].join('\n')).replace('struct P { n: u32 }', 'struct Q { n: u32, alpha: f32 }') },
  backward: (dy, { attrs, needs }) => ({ a: needs.a ? mg.mul(dy, 1) : null, b: needs.b ? mg.mul(dy, attrs.alpha) : null }),
});

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

describe('defineOp', () => {
  it('a WGSL op with a WGSL backward: forward matches float64, gradcheck passes', async () => {
    const shape = [3, 5, 7];
    const data = randomData(105, 11, -4, 4);
    const x = mg.tensor(data, shape);
    for (const beta of [1, 1.7]) {
      const y = swish(x, { beta });
      expect(y.shape).toEqual(shape);
      expectClose(await y.toArray(), data.map((v) => v * sigmoid(beta * v)), `swish beta ${beta}`, 1e-5, 1e-6);
      y.release();
      const report = await swish.gradcheck([x], { beta });
      expect(report.ok).toBe(true);
      expect(report.worst[0]).toBeLessThan(1e-2);
    }
    x.release();
  });

  it('a deliberately wrong WGSL backward fails gradcheck, naming the input', async () => {
    const x = mg.tensor(randomData(40, 3, -3, 3), [8, 5]);
    await expect(swishWrong.gradcheck([x])).rejects.toThrow(/gradcheck failed.*input 0 \[8,5\]/);
    const report = await swishWrong.gradcheck([x], {}, { throwOnFailure: false });
    expect(report.ok).toBe(false);
    expect(report.worst[0]).toBeGreaterThan(0.1);
    x.release();
  });

  it('the default grid covers sizes that need a 2-D grid (over 65,535 workgroups)', async () => {
    const n = 65_536 * 64 + 37; // 65,537 workgroups of 64
    const data = new Float32Array(randomData(n, 5, -3, 3));
    const x = mg.tensor(data, [n]);
    const y = swish(x);
    const out = (await y.toArray()) as Float32Array;
    for (const i of [0, 1, 64 * 65_535 - 1, 64 * 65_535, n - 1]) expect(out[i]).toBeCloseTo(data[i]! * sigmoid(data[i]!), 5);
    expect(out.every((v) => Number.isFinite(v))).toBe(true);
    x.release();
    y.release();
  });

  it('backward kernels run only for inputs that need a gradient; both gradients check', async () => {
    const a = mg.tensor(randomData(33, 1), [3, 11]);
    const b = mg.tensor(randomData(33, 2), [3, 11]);
    await product.gradcheck([a, b]);
    const d = mg.getDevice().dispatcher.counters;
    const leafA = mg.tensor(randomData(33, 1), [3, 11], { requiresGrad: true });
    const y = product(leafA, b);
    const before = d.dispatches;
    await mg.sum(y).backward();
    const withOneInput = d.dispatches - before;
    expect(leafA.grad).not.toBeNull();
    expectClose(await leafA.grad!.toArray(), await b.toArray(), 'da = b');
    const leafB = mg.tensor(randomData(33, 2), [3, 11], { requiresGrad: true });
    const y2 = product(leafA, leafB);
    leafA.grad!.release();
    leafA.grad = null;
    const before2 = d.dispatches;
    await mg.sum(y2).backward();
    expect(d.dispatches - before2).toBe(withOneInput + 1); // the second gradient kernel
    expectClose(await leafB.grad!.toArray(), await leafA.toArray(), 'db = a');
    for (const t of [a, b, leafA, leafB, y, y2, leafA.grad!, leafB.grad!]) t.release();
  });

  it('a backward composed of existing ops', async () => {
    const a = mg.tensor(randomData(12, 4), [4, 3]);
    const b = mg.tensor(randomData(12, 5), [4, 3]);
    const y = axpy(a, b, { alpha: -0.5 });
    const [av, bv] = [await a.toArray(), await b.toArray()];
    expectClose(await y.toArray(), Array.from(av, (v, i) => v - 0.5 * bv[i]!), 'axpy');
    const r = await axpy.gradcheck([a, b], { alpha: 3 });
    expect(r.checked).toEqual([12, 12]);
    expect(mg.declaredKernels().filter((k) => k.name.startsWith('test_axpy.')).map((k) => k.name)).toEqual(['test_axpy.forward']);
    [a, b, y].forEach((t) => t.release());
  });

  it('an integer input: dtypes and shapes checked, gradcheck leaves it alone', async () => {
    const body = (out: string, src: string) => `struct P { n: u32, k: u32 }
@group(0) @binding(0) var<storage, read> ${src}: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> ${out}: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i < p.n) { ${out}[i] = ${src}[i] * f32(labels[i / p.k] + 1); }
}`;
    const uniforms = ({ inputs }: mg.OpContext<mg.OpAttrs>) => ({ n: inputs.x!.size, k: inputs.x!.shape[1]! });
    const rowScale = mg.defineOp({
      name: 'test_row_scale',
      inputs: ['x', 'labels'],
      dtypes: { labels: 'i32' },
      check: (t) => (t.labels!.shape.length === 1 && t.labels!.shape[0] === t.x!.shape[0] ? undefined : 'labels must be [rows of x]'),
      forward: { source: body('y', 'x'), uniforms },
      backward: { source: body('dx', 'dy'), uniforms },
    });
    const x = mg.tensor(randomData(15, 8), [3, 5]);
    const labels = mg.tensor(Int32Array.from([2, 0, 1]), [3]);
    const y = rowScale(x, labels);
    const xv = await x.toArray();
    expectClose(await y.toArray(), Array.from(xv, (v, i) => v * [3, 1, 2][Math.floor(i / 5)]!), 'row scale');
    const r = await rowScale.gradcheck([x, labels]);
    expect(r.checked).toEqual([15, 0]);
    expect(Array.from(await labels.toArray())).toEqual([2, 0, 1]); // the caller's tensor, untouched and alive
    expect(() => rowScale(x, x)).toThrow(/test_row_scale: input 'labels' must be i32, got f32/);
    const bad = mg.tensor(Int32Array.from([1, 1]), [2]);
    expect(() => rowScale(x, bad)).toThrow(/test_row_scale: labels must be \[rows of x\] \(inputs: x \[3, 5\] f32, labels \[2\] i32\)/);
    [x, labels, y, bad].forEach((t) => t.release());
  });

  it('pipelines are compiled once per op; ops and their kernels are in the registries', async () => {
    const x = mg.tensor(randomData(10, 9), [10]);
    swish(x).release();
    const compiled = mg.memoryStats().pipelinesCompiled;
    for (let i = 0; i < 3; i++) swish(x, { beta: 0.5 + i }).release();
    expect(mg.memoryStats().pipelinesCompiled).toBe(compiled);
    x.release();
    const names = mg.declaredOps().map((o) => o.name);
    expect(names).toEqual(expect.arrayContaining(['activation', 'test_swish', 'test_product', 'test_axpy']));
    expect(swish.forwardKernel.name).toBe('test_swish.forward');
    expect(product.backwardKernels.map((k) => k.name)).toEqual(['test_product.backward0', 'test_product.backward1']);
    for (const op of mg.declaredOps()) for (const k of [op.forwardKernel, ...op.backwardKernels]) expect(k.verify(), k.name).toEqual([]);
    expect(mg.activationOp.backwardKernels.length).toBe(1);
  });

  it('call errors name the op, the inputs and the caller line', () => {
    const a = mg.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = mg.tensor([1, 2, 3, 4], [4]);
    const site = /called at [^ ]*define-op\.test\.ts:\d+:\d+/;
    expect(() => product(a, b)).toThrow(/^test_product: a and b must have the same shape \(inputs: a \[2, 3\] f32, b \[4\] f32\)/);
    expect(() => product(a, b)).toThrow(site);
    expect(() => product(a)).toThrow(/test_product: takes 2 tensor\(s\) \(a, b\), got 1/);
    expect(() => swish(a, { gamma: 2 } as never)).toThrow(/test_swish: unknown attribute 'gamma' \(attributes: beta\)/);
    expect(() => swish(a, { beta: NaN })).toThrow(/attribute 'beta' must be a finite number/);
    const labels = mg.tensor(Int32Array.from([1, 2]), [2]);
    expect(() => swish(labels)).toThrow(/test_swish: input 'x' must be f32, got i32 \(inputs: x \[2\] i32\)/);
    expect(() => mg.activation(labels, 'relu')).toThrow(site);
    b.release();
    expect(() => product(a, b)).toThrow(/test_product: input 'b' \(tensor #\d+\) was released/);
    let escaped: mg.Tensor | null = null;
    mg.tidy(() => {
      escaped = mg.add(a, 1); // not returned: released when tidy ends
    });
    expect(() => mg.relu(escaped!)).toThrow(/activation: input 'x' \(tensor #\d+\) was released \(by release\(\), or by the tidy\(\) that made it\)/);
    [a, labels].forEach((t) => t.release());
  });

  it('declaration errors say what is wrong with the WGSL wiring', () => {
    const src = elemFn('y[i] = a[i] * w[i];', [rd('a', 0), rd('w', 1), wr('y', 2), un(3)].join('\n'));
    expect(() => mg.defineOp({ name: 'bad1', inputs: ['a'], forward: { source: src } })).toThrow(/defineOp\('bad1'\): the forward kernel reads 'w', which is not an input \(a\)/);
    const ok = elemFn('y[i] = a[i];', [rd('a', 0), wr('y', 1), un(2)].join('\n'));
    const badGrad = elemFn('g[i] = dy[i];', [rd('dy', 0), wr('g', 1), un(2)].join('\n'));
    expect(() => mg.defineOp({ name: 'bad2', inputs: ['a'], forward: { source: ok }, backward: { source: badGrad } })).toThrow(/writes 'g'; gradients are named 'd' \+ an input \(da\)/);
    const needsScale = ok.replace('struct P { n: u32 }', 'struct P { n: u32, scale: f32 }');
    expect(() => mg.defineOp({ name: 'bad3', inputs: ['a'], forward: { source: needsScale } })).toThrow(/uniform field 'scale' has no value/);
    expect(() => mg.defineOp({ name: 'test_swish', inputs: ['x'], forward: { source: SWISH_FWD } })).toThrow(/already declared/);
    expect(() => mg.defineOp({ name: 'bad4', inputs: ['a'], forward: { source: 'fn broken(' } })).toThrow(/defineOp\('bad4'\)/);
  });

  it('backward through a no-grad result, or through a graph already used, says so', async () => {
    const w = mg.tensor([0.5, -1, 2], [3], { requiresGrad: true });
    const z = mg.noGrad(() => mg.sum(swish(w)));
    await expect(z.backward()).rejects.toThrow(/does not require grad \(it was computed under noGrad/);
    const y = swish(w);
    const l1 = mg.sum(y);
    await l1.backward();
    await expect(l1.backward()).rejects.toThrow(/already used by an earlier backward\(\)/);
    const l2 = mg.sum(mg.mul(y, 2));
    await expect(l2.backward()).rejects.toThrow(/reached tensor \[3\] \(an intermediate result\): the graph that produced it was already used/);
    [w, w.grad!, z, y, l1, l2].forEach((t) => t.release());
  });

  it('has a place in the benchmark: forward and backward timed, costs from the kernels', async () => {
    const rows = await mg.benchmarkOp(mg.activationOp, [{ inputs: { x: [4, 9, 9, 5] }, attrs: { kind: 2 } }], { reps: 3 });
    expect(rows.map((r) => r.pass)).toEqual(['fwd', 'bwd']);
    expect(rows[0]!.kernels).toEqual(['activation.forward']);
    expect(rows[1]!.kernels).toEqual(['activation.backward']);
    expect(rows[0]!.flops).toBe(4 * 9 * 9 * 5);
    expect(rows[1]!.bytes).toBe(3 * 4 * 4 * 9 * 9 * 5);
    for (const r of rows) expect(r.ms).toBeGreaterThan(0);
    // A user op without declared costs, at its own shapes; and a plain function.
    const mine = await mg.benchmarkOp(swish, [[[64, 33]]], { reps: 3 });
    expect(mine.map((r) => [r.pass, r.flops, r.dispatches])).toEqual([['fwd', null, 1], ['bwd', null, 1]]);
    const fn = await mg.benchmarkOp((x: mg.Tensor) => mg.hswish(mg.mul(x, 2)), [[[10, 3]]], { name: 'composite', reps: 3 });
    expect(fn[0]!.name).toBe('composite');
    expect(fn[0]!.kernels).toEqual(['affine', 'activation.forward']);
  });

  // Last: it opens a second device.
  it('a tensor from another GPU device is refused by ops and by runKernel', async () => {
    const old = mg.tensor([1, 2, 3], [3]);
    const first = mg.getDevice();
    await mg.init({ reopen: true });
    expect(mg.getDevice()).not.toBe(first);
    expect(() => swish(old)).toThrow(new RegExp(`test_swish: input 'x' lives on GPU device #${first.id}, not the current device #${mg.getDevice().id}`));
    expect(() => mg.add(old, 1)).toThrow(/kernel affine: input 'x_in' \(tensor #\d+ \[3\]\) lives on GPU device #\d+, not on the current device/);
    const fresh = mg.tensor(Array.from(await old.toArray()), [3]); // the old device still reads
    expect(Array.from(await swish(fresh, { beta: 0 }).toArray())).toEqual([0.5, 1, 1.5]);
    const live = first.stats().liveBuffers;
    old.release(); // back to its own device's pool
    expect(first.stats().liveBuffers).toBe(live - 1);
  });
});
