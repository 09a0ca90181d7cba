/**
 * How each benchmarked op is run, and what it costs in FLOPs and bytes.
 *
 * A case builds its inputs, runs the op once through its public function (src/ops) with the
 * dispatcher capturing, then runs each gradient rule once, also captured: the rule is the op's own
 * backward (its autograd node), called with only the input of interest requiring a gradient, so
 * `dx` and `dw` are timed apart. Timing then replays the captured dispatches (the same kernels,
 * pipelines, bind groups and uniforms the engine issued), so no JavaScript above the device layer
 * is in the measurement.
 *
 * FLOPs: 2 x multiply-adds for convolutions and GEMMs (each gradient of a conv/GEMM costs as much
 * as its forward). Memory-bound ops get a nominal count per element, stated beside each.
 * Bytes: the minimal traffic, every tensor the pass must read read once and every tensor it
 * writes written once (4 bytes per f32), ignoring re-reads, split-K partial sums and padding.
 * readBytes: the read part of that alone (the inputs the pass must load), for the load-issue term
 * of the roofline (minimal vec4 loads = readBytes / 16). Ops declared with mg.defineOp state only
 * total bytes (KernelCost), so their passes have no readBytes.
 */
import * as mg from '../src/index.js';
import type { DispatchRecord } from '../src/device/dispatcher.js';
import type { Tensor } from '../src/tensor/tensor.js';
import type { BenchShapes } from './shapes.js';

/** One timed unit: a forward or one gradient of an op, as the dispatches it issues. */
export interface Pass {
  pass: string;
  records: DispatchRecord[];
  flops: number;
  bytes: number;
  /** Bytes of `bytes` the pass must read (each input once); absent where only the total is declared. */
  readBytes?: number;
}

export interface Prepared {
  passes: Pass[];
  /** Releases every tensor the case made. */
  dispose(): void;
}

export interface BenchCase {
  /** Unique, filterable name, e.g. `pw 28x28 24->88`. */
  name: string;
  group: 'conv' | 'depthwise' | 'pointwise' | 'batchnorm' | 'activation' | 'pool' | 'se-scale' | 'residual' | 'se-linear' | 'linear' | 'loss' | 'op';
  /** Shapes in words, for the table. */
  shape: string;
  /** Layers in one forward pass of the network with this shape. */
  count: number;
  /** Stated count of FLOPs for memory-bound ops. */
  flopNote?: string;
  prepare(): Prepared;
}

const F32 = 4;

/** Tracks tensors so a case can release everything it made. */
class Scope {
  private list: Tensor[] = [];
  add<T extends Tensor | null | undefined>(t: T): T {
    if (t) this.list.push(t);
    return t;
  }
  randn(shape: number[], requiresGrad = false): Tensor {
    return this.add(mg.randn(shape, { requiresGrad, seed: 17 + shape.length }));
  }
  dispose(): void {
    for (const t of this.list) if (!t.released) t.release();
    this.list = [];
  }
}

function capture<T>(fn: () => T): { records: DispatchRecord[]; result: T } {
  const d = mg.getDevice().dispatcher;
  d.startCapture();
  try {
    const result = fn();
    return { records: d.stopCapture(), result };
  } catch (e) {
    d.stopCapture();
    throw e;
  }
}

/**
 * Captures the forward `run()`, then for each named gradient captures the op's backward rule with
 * only the listed inputs requiring a gradient. `grads` maps a pass name to those inputs.
 */
function forwardAndGrads(
  scope: Scope,
  run: () => Tensor,
  inputs: Tensor[],
  grads: { pass: string; need: Tensor[]; flops: number; bytes: number; readBytes: number }[],
  fwd: { flops: number; bytes: number; readBytes: number },
  seed?: () => Tensor,
): Pass[] {
  const { records, result: y } = capture(run);
  scope.add(y);
  const passes: Pass[] = [{ pass: 'fwd', records, ...fwd }];
  const node = y.gradFn;
  if (!node) return passes;
  const g = seed ? scope.add(seed()) : scope.randn([...y.shape]);
  for (const gr of grads) {
    for (const t of inputs) t.requiresGrad = gr.need.includes(t);
    const c = capture(() => node.backward(g));
    for (const t of c.result) scope.add(t);
    passes.push({ pass: gr.pass, records: c.records, flops: gr.flops, bytes: gr.bytes, readBytes: gr.readBytes });
  }
  for (const t of inputs) t.requiresGrad = true;
  return passes;
}

const prepare = (fn: (s: Scope) => Pass[]) => (): Prepared => {
  const s = new Scope();
  try {
    return { passes: fn(s), dispose: () => s.dispose() };
  } catch (e) {
    s.dispose();
    throw e;
  }
};

/** Every case for `shapes` at batch `n`. */
export function buildCases(shapes: BenchShapes, n: number): BenchCase[] {
  const cases: BenchCase[] = [];

  for (const c of shapes.stem) {
    const macs = n * c.ho * c.ho * c.cout * c.k * c.k * c.cin;
    const xB = n * c.h * c.h * c.cin * F32;
    const wB = c.k * c.k * c.cin * c.cout * F32;
    const yB = n * c.ho * c.ho * c.cout * F32;
    cases.push({
      name: `conv${c.k}x${c.k}/${c.stride} ${c.h}x${c.h} ${c.cin}->${c.cout}`,
      group: 'conv',
      shape: `x[${n},${c.h},${c.h},${c.cin}] w[${c.k},${c.k},${c.cin},${c.cout}]`,
      count: c.count,
      prepare: prepare((s) => {
        const x = s.randn([n, c.h, c.h, c.cin], true);
        const w = s.randn([c.k, c.k, c.cin, c.cout], true);
        return forwardAndGrads(s, () => mg.conv2d(x, w, { stride: c.stride, padding: c.k >> 1 }), [x, w], [
          { pass: 'dx', need: [x], flops: 2 * macs, bytes: yB + wB + xB, readBytes: yB + wB },
          { pass: 'dw', need: [w], flops: 2 * macs, bytes: xB + yB + wB, readBytes: xB + yB },
        ], { flops: 2 * macs, bytes: xB + wB + yB, readBytes: xB + wB });
      }),
    });
  }

  for (const d of shapes.depthwise) {
    const macs = n * d.ho * d.ho * d.c * d.k * d.k;
    const xB = n * d.h * d.h * d.c * F32;
    const wB = d.k * d.k * d.c * F32;
    const yB = n * d.ho * d.ho * d.c * F32;
    cases.push({
      name: `dw${d.k}x${d.k}/${d.stride} ${d.h}x${d.h} c${d.c}`,
      group: 'depthwise',
      shape: `x[${n},${d.h},${d.h},${d.c}] -> [${n},${d.ho},${d.ho},${d.c}]`,
      count: d.count,
      prepare: prepare((s) => {
        const x = s.randn([n, d.h, d.h, d.c], true);
        const w = s.randn([d.k, d.k, d.c], true);
        return forwardAndGrads(s, () => mg.depthwiseConv2d(x, w, { stride: d.stride, padding: d.k >> 1 }), [x, w], [
          { pass: 'dx', need: [x], flops: 2 * macs, bytes: yB + wB + xB, readBytes: yB + wB },
          { pass: 'dw', need: [w], flops: 2 * macs, bytes: xB + yB + wB, readBytes: xB + yB },
        ], { flops: 2 * macs, bytes: xB + wB + yB, readBytes: xB + wB });
      }),
    });
  }

  for (const p of shapes.pointwise) {
    const m = n * p.h * p.h;
    const flops = 2 * m * p.cin * p.cout;
    const aB = m * p.cin * F32;
    const bB = p.cin * p.cout * F32;
    const cB = m * p.cout * F32;
    cases.push({
      name: `pw ${p.h}x${p.h} ${p.cin}->${p.cout}`,
      group: 'pointwise',
      shape: `M=${m} K=${p.cin} N=${p.cout}`,
      count: p.count,
      prepare: prepare((s) => {
        const x = s.randn([n, p.h, p.h, p.cin], true);
        const w = s.randn([p.cin, p.cout], true);
        return forwardAndGrads(s, () => mg.pointwiseConv2d(x, w), [x, w], [
          { pass: 'dx', need: [x], flops, bytes: cB + bB + aB, readBytes: cB + bB },
          { pass: 'dw', need: [w], flops, bytes: aB + cB + bB, readBytes: aB + cB },
        ], { flops, bytes: aB + bB + cB, readBytes: aB + bB });
      }),
    });
  }

  // BatchNorm in training mode with the activation fused (batchNorm's `activation` option).
  for (const b of shapes.norm) {
    const size = n * b.h * b.h * b.c;
    cases.push({
      name: `bn+${b.activation} ${b.h}x${b.h} c${b.c}`,
      group: 'batchnorm',
      shape: `[${n},${b.h},${b.h},${b.c}]`,
      count: b.count,
      flopNote: 'fwd 4/elem (sum, sum of squares, scale-shift), bwd 6/elem',
      prepare: prepare((s) => {
        const x = s.randn([n, b.h, b.h, b.c], true);
        const gamma = s.add(mg.ones([b.c], { requiresGrad: true }));
        const beta = s.add(mg.zeros([b.c], { requiresGrad: true }));
        const running = { mean: s.add(mg.zeros([b.c])), var: s.add(mg.ones([b.c])) };
        // Its backward releases the batch statistics, so dx, dgamma and dbeta are one pass.
        // Reads: bwd x, dy and 2 per-channel vectors (writes dx, dgamma, dbeta); fwd x and 4 per-channel
        // vectors (gamma, beta, running mean and variance).
        return forwardAndGrads(s, () => mg.batchNorm(x, gamma, beta, running, { training: true, activation: b.activation }), [x, gamma, beta], [
          { pass: 'bwd', need: [x, gamma, beta], flops: 6 * size, bytes: (3 * size + 4 * b.c) * F32, readBytes: (2 * size + 2 * b.c) * F32 },
        ], { flops: 4 * size, bytes: (2 * size + 6 * b.c) * F32, readBytes: (size + 4 * b.c) * F32 });
      }),
    });
  }

  for (const a of shapes.activation) {
    const size = n * a.h * a.h * a.c;
    cases.push({
      name: `${a.activation} ${a.h}x${a.h} c${a.c}`,
      group: 'activation',
      shape: `[${n},${a.h},${a.h},${a.c}]`,
      count: a.count,
      flopNote: '1/elem',
      prepare: prepare((s) => {
        const x = s.randn([n, a.h, a.h, a.c], true);
        return forwardAndGrads(s, () => mg.activation(x, a.activation), [x], [
          { pass: 'dx', need: [x], flops: size, bytes: 3 * size * F32, readBytes: 2 * size * F32 },
        ], { flops: size, bytes: 2 * size * F32, readBytes: size * F32 });
      }),
    });
  }

  for (const p of shapes.pool) {
    const size = n * p.h * p.h * p.c;
    cases.push({
      name: `gap ${p.h}x${p.h} c${p.c}`,
      group: 'pool',
      shape: `[${n},${p.h},${p.h},${p.c}] -> [${n},${p.c}]`,
      count: p.count,
      flopNote: '1/input elem',
      prepare: prepare((s) => {
        const x = s.randn([n, p.h, p.h, p.c], true);
        return forwardAndGrads(s, () => mg.globalAvgPool(x), [x], [
          { pass: 'dx', need: [x], flops: size, bytes: (size + n * p.c) * F32, readBytes: n * p.c * F32 },
        ], { flops: size, bytes: (size + n * p.c) * F32, readBytes: size * F32 });
      }),
    });
  }

  for (const p of shapes.seScale) {
    const size = n * p.h * p.h * p.c;
    const gate = n * p.c;
    cases.push({
      name: `se-mul ${p.h}x${p.h} c${p.c}`,
      group: 'se-scale',
      shape: `[${n},${p.h},${p.h},${p.c}] * [${n},1,1,${p.c}]`,
      count: p.count,
      flopNote: '1/elem (dgate 2/elem)',
      prepare: prepare((s) => {
        const x = s.randn([n, p.h, p.h, p.c], true);
        const g = s.randn([n, 1, 1, p.c], true);
        return forwardAndGrads(s, () => mg.mul(x, g), [x, g], [
          { pass: 'dx', need: [x], flops: size, bytes: (2 * size + gate) * F32, readBytes: (size + gate) * F32 },
          { pass: 'dgate', need: [g], flops: 2 * size, bytes: (2 * size + gate) * F32, readBytes: 2 * size * F32 },
        ], { flops: size, bytes: (2 * size + gate) * F32, readBytes: (size + gate) * F32 });
      }),
    });
  }

  for (const p of shapes.residual) {
    const size = n * p.h * p.h * p.c;
    cases.push({
      name: `add ${p.h}x${p.h} c${p.c}`,
      group: 'residual',
      shape: `[${n},${p.h},${p.h},${p.c}] x2`,
      count: p.count,
      flopNote: '1/elem; its backward passes the gradient through (no kernel)',
      prepare: prepare((s) => {
        const a = s.randn([n, p.h, p.h, p.c], true);
        const b = s.randn([n, p.h, p.h, p.c], true);
        return forwardAndGrads(s, () => mg.add(a, b), [a, b], [], { flops: size, bytes: 3 * size * F32, readBytes: 2 * size * F32 });
      }),
    });
  }

  for (const l of [...shapes.seLinear.map((x) => ({ ...x, group: 'se-linear' as const })), ...shapes.classifier.map((x) => ({ ...x, group: 'linear' as const }))]) {
    const flops = 2 * n * l.inF * l.outF;
    const xB = n * l.inF * F32;
    const wB = l.inF * l.outF * F32;
    const yB = n * l.outF * F32;
    const bB = l.outF * F32;
    cases.push({
      name: `${l.group === 'linear' ? `fc ${l.name}` : 'se-fc'} ${l.inF}->${l.outF}`,
      group: l.group,
      shape: `x[${n},${l.inF}] w[${l.inF},${l.outF}] +b`,
      count: l.count,
      prepare: prepare((s) => {
        const x = s.randn([n, l.inF], true);
        const w = s.randn([l.inF, l.outF], true);
        const b = s.randn([l.outF], true);
        return forwardAndGrads(s, () => mg.linear(x, w, b), [x, w, b], [
          { pass: 'dx', need: [x], flops, bytes: yB + wB + xB, readBytes: yB + wB },
          { pass: 'dw', need: [w], flops, bytes: xB + yB + wB, readBytes: xB + yB },
          { pass: 'db', need: [b], flops: n * l.outF, bytes: yB + bB, readBytes: yB },
        ], { flops: flops + n * l.outF, bytes: xB + wB + bB + yB, readBytes: xB + wB + bB });
      }),
    });
  }

  {
    const k = shapes.numClasses;
    const size = n * k;
    cases.push({
      name: `softmax-xent ${n}x${k}`,
      group: 'loss',
      shape: `logits[${n},${k}] labels[${n}] smoothing 0.1`,
      count: 1,
      flopNote: 'fwd 4/logit (max, sub, exp, sum), bwd 3/logit',
      prepare: prepare((s) => {
        const logits = s.randn([n, k], true);
        const labels = s.add(mg.tensor(Int32Array.from({ length: n }, (_, i) => (i * 37) % k), [n]));
        return forwardAndGrads(s, () => mg.softmaxCrossEntropy(logits, labels, { labelSmoothing: 0.1 }), [logits], [
          { pass: 'dx', need: [logits], flops: 3 * size, bytes: (2 * size + n + 1) * F32, readBytes: (size + n + 1) * F32 },
        ], { flops: 4 * size, bytes: (size + n + 1) * F32, readBytes: (size + n) * F32 }, () => mg.ones([]));
      }),
    });
  }

  // Every op declared with mg.defineOp (built-in or a user's), at the shapes it declares for benchmarking.
  // count 0: not part of the network totals.
  for (const op of mg.declaredOps()) {
    for (const b of op.spec.bench ?? []) {
      const shape = Object.entries(b.inputs).map(([k, v]) => `${k}[${v.join(',')}]`).join(' ');
      cases.push({
        name: `op ${op.name} ${b.label ?? shape}`,
        group: 'op',
        shape: `${shape}${b.attrs ? ' ' + JSON.stringify(b.attrs) : ''}`,
        count: 0,
        flopNote: 'declared by the kernels (KernelSpec.cost)',
        prepare: () => {
          const p = mg.prepareOpBench(op, b);
          return { passes: p.passes.map((x) => ({ pass: x.pass, records: x.records, flops: x.flops, bytes: x.bytes })), dispose: p.dispose };
        },
      });
    }
  }
  return cases;
}
