/**
 * `npm run bench -- --int8 [--quick] [--batch N] [--out FILE]`: every int8 kernel next to its
 * float32 twin at MobileNetV3-Small's real layer shapes (224 px), the int8 ceiling of this
 * adapter (a register-only dot4I8Packed loop) beside the float32 one, and whole-network
 * inference, int8 against float32: latency at batch 1 and throughput at batch 32.
 *
 * Kernel timings replay the captured dispatches (no JavaScript in the measurement), as
 * bench/bench.ts does. Operations: 2 per multiply-add for both types (an int8 "op" is one
 * int8 multiply or add). The float32 twin of an int8 GEMM or convolution is the float32
 * kernel alone; in the float network BatchNorm and the activation take a further pass, which
 * the int8 kernels fuse into their requantization: the end-to-end rows count that.
 */
import { gentleWait } from '../src/device/gpu-wait.js';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as mg from '../src/index.js';
import type { DispatchRecord } from '../src/device/dispatcher.js';
import { int8Path, setInt8Path } from '../kernels/int8-path.js';
import { int8Depthwise, int8Gemm, int8Pool, int8SeScale, int8Stem, type Requant } from '../src/quant/int8-ops.js';
import { foldModel } from '../src/quant/fold.js';
import { Int8Model } from '../src/quant/int8-model.js';
import { activationNames } from '../src/quant/net-plan.js';
import { paramsForRange } from '../src/quant/qparams.js';
import { quantizeNet } from '../src/quant/quantize.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { mobilenetShapes } from './shapes.js';

interface Args {
  quick: boolean;
  batch: number;
  out: string;
}

function parse(argv: string[]): Args {
  const a: Args = { quick: argv.includes('--quick'), batch: 0, out: 'bench/results/int8.json' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--batch') a.batch = Number(argv[++i]);
    else if (argv[i] === '--out') a.out = argv[++i]!;
  }
  if (!a.batch) a.batch = a.quick ? 8 : 32;
  return a;
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;

/**
 * ms per replay of `records`: the fastest of 3-5 submits of as many replays as fit ~50 ms. The
 * fastest, not the median: on a CPU adapter shared with other processes the slower submits measure
 * the neighbours (as bench/ceilings.ts keeps the best of its probes).
 */
async function timeRecords(records: DispatchRecord[], quick: boolean): Promise<number> {
  const d = mg.getDevice().dispatcher;
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) d.replay(records);
    const t0 = performance.now();
    await mg.sync();
    return (performance.now() - t0) / n;
  };
  await run(1);
  const one = await run(1);
  const n = Math.max(1, Math.min(Math.floor(3000 / records.length), 100, Math.ceil((quick ? 20 : 50) / Math.max(one, 1e-3))));
  const samples = [];
  for (let r = 0; r < (quick ? 3 : 5); r++) samples.push(await run(n));
  return Math.min(...samples);
}

/** Captures what `fn` dispatches (after running it once for real to compile pipelines). */
async function captured(fn: () => Tensor[]): Promise<{ records: DispatchRecord[]; release: () => void }> {
  for (const t of fn()) t.release();
  await mg.sync();
  const d = mg.getDevice().dispatcher;
  d.startCapture();
  let outs: Tensor[] = [];
  let records: DispatchRecord[];
  try {
    outs = fn();
  } finally {
    records = d.stopCapture();
  }
  await mg.sync();
  return { records, release: () => outs.forEach((t) => t.release()) };
}

const DOT4_ITER = 2048;
const DOT4_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> out: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = gid.x * 2654435761u;
  let w0 = s ^ 0x01020304u; let w1 = s ^ 0x05060708u; let w2 = s ^ 0x090a0b0cu; let w3 = s ^ 0x0d0e0f10u;
  var a0 = i32(s & 7u); var a1 = a0 + 1; var a2 = a0 + 2; var a3 = a0 + 3;
  var a4 = a0 + 4; var a5 = a0 + 5; var a6 = a0 + 6; var a7 = a0 + 7;
  var x = s;
  for (var i = 0u; i < ${DOT4_ITER}u; i++) {
    a0 += dot4I8Packed(x, w0); a1 += dot4I8Packed(x, w1); a2 += dot4I8Packed(x, w2); a3 += dot4I8Packed(x, w3);
    a4 += dot4I8Packed(x ^ 1u, w0); a5 += dot4I8Packed(x ^ 1u, w1); a6 += dot4I8Packed(x ^ 1u, w2); a7 += dot4I8Packed(x ^ 1u, w3);
    x = x + 0x01010101u;
  }
  out[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}`;

const FMA_ITER = 2048;
const FMA_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let s = f32(gid.x) * 1e-7;
  let m = vec4f(0.9999, 0.9998, 0.9997, 0.9996);
  let c = vec4f(1e-4 + s);
  var a0 = vec4f(s); var a1 = vec4f(s + 1.0); var a2 = vec4f(s + 2.0); var a3 = vec4f(s + 3.0);
  var a4 = vec4f(s + 4.0); var a5 = vec4f(s + 5.0); var a6 = vec4f(s + 6.0); var a7 = vec4f(s + 7.0);
  for (var i = 0u; i < ${FMA_ITER}u; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  out[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}`;

/** Register-only throughput: ops per second of a loop of independent dot4I8Packed (8 ops each) or vec4 FMAs (8 FLOPs each). */
async function ceiling(code: string, opsPerIter: number, iters: number): Promise<number> {
  const device = mg.getDevice().device;
  const module = device.createShaderModule({ code });
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const threads = 64 * 256;
  const buf = device.createBuffer({ size: threads * 16, usage: 0x80 });
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const e = device.createCommandEncoder();
    const p = e.beginComputePass();
    p.setPipeline(pipe);
    p.setBindGroup(0, bg);
    p.dispatchWorkgroups(256);
    p.end();
    const t0 = performance.now();
    device.queue.submit([e.finish()]);
    await gentleWait(() => device.queue.onSubmittedWorkDone());
    if (r > 0) best = Math.min(best, (performance.now() - t0) / 1000);
  }
  buf.destroy();
  return (threads * iters * 8 * opsPerIter) / best / 1e9;
}

interface KernelRow {
  group: string;
  shape: string;
  count: number;
  ops: number;
  f32Ms: number;
  int8Ms: number;
  int8FallbackMs?: number;
  speedup: number;
  int8Gops: number;
  pctOfInt8Ceiling: number;
}

function randInts(n: number, lo: number, hi: number, seed: number): Int32Array {
  let s = seed >>> 0 || 1;
  return Int32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) % (hi - lo + 1));
  });
}

function requant(c: number, table: boolean): Requant {
  return {
    bias: mg.tensor(randInts(c, -5000, 5000, c), [c], { dtype: 'i32' }),
    mult: mg.tensor(new Float32Array(c).fill(1e-4), [c]),
    table: table ? mg.tensor(randInts(256, -128, 127, 3), [256], { dtype: 'i32' }) : undefined,
    zp: -3,
    lo: -128,
  };
}

const i8 = (shape: number[], seed: number) => mg.tensor(randInts(shape.reduce((a, b) => a * b, 1), -128, 127, seed), shape, { dtype: 'i8x4' });

async function pair(group: string, shape: string, count: number, ops: number, f32: () => Tensor[], int8: () => Tensor[], quick: boolean, int8Ceiling: number): Promise<KernelRow> {
  const a = await captured(f32);
  const f32Ms = await timeRecords(a.records, quick);
  a.release();
  const b = await captured(int8);
  const int8Ms = await timeRecords(b.records, quick);
  b.release();
  let int8FallbackMs: number | undefined;
  if (int8Path() === 'native') {
    setInt8Path('fallback');
    const c = await captured(int8);
    int8FallbackMs = await timeRecords(c.records, quick);
    c.release();
    setInt8Path(null);
  }
  const gops = ops / (int8Ms / 1000) / 1e9;
  return { group, shape, count, ops, f32Ms, int8Ms, int8FallbackMs, speedup: f32Ms / int8Ms, int8Gops: gops, pctOfInt8Ceiling: (100 * gops) / int8Ceiling };
}

/** ms per forward pass (median), the forward read back each time. */
async function timeForward(fn: () => Tensor, reps: number): Promise<number> {
  const one = async () => {
    const t0 = performance.now();
    const y = fn();
    await y.toArray();
    y.release();
    return performance.now() - t0;
  };
  await one();
  const xs = [];
  for (let i = 0; i < reps; i++) xs.push(await one());
  return median(xs);
}

export async function runInt8Bench(argv: string[]): Promise<void> {
  const a = parse(argv);
  const report = await mg.init();
  const B = a.batch;
  const S = 224;
  console.log(`mobilegrad int8 benchmark: int8 kernels next to their float32 twins at MobileNetV3-Small's shapes (${S} px, batch ${B})`);
  console.log(`adapter: ${report.adapter.description || report.adapter.device} (${report.adapter.architecture}); int8 path: ${int8Path()}${int8Path() === 'native' ? ' (dot4I8Packed); the fallback is timed too' : ''}`);
  const f32Ceiling = await ceiling(FMA_WGSL, 4, FMA_ITER);
  const int8Ceiling = int8Path() === 'native' ? await ceiling(DOT4_WGSL, 4, DOT4_ITER) : NaN;
  console.log(`ceilings (register-only loops): float32 vec4 FMA ${f32Ceiling.toFixed(1)} GFLOP/s; int8 dot4I8Packed ${int8Ceiling.toFixed(1)} Gop/s (8 ops per dot4)`);
  const shapes = mobilenetShapes(S);
  const pick = <T>(xs: T[]) => (a.quick ? [xs[0]!, xs[xs.length - 1]!] : xs);
  const rows: KernelRow[] = [];
  const log = (r: KernelRow) => {
    rows.push(r);
    const fb = r.int8FallbackMs !== undefined ? `  fallback ${r.int8FallbackMs.toFixed(3).padStart(8)} ms` : '';
    console.log(`  ${r.group.padEnd(10)} ${r.shape.padEnd(30)} x${String(r.count).padEnd(2)} f32 ${r.f32Ms.toFixed(3).padStart(8)} ms  int8 ${r.int8Ms.toFixed(3).padStart(8)} ms  ${r.speedup.toFixed(2).padStart(5)}x  ${r.int8Gops.toFixed(1).padStart(6)} Gop/s (${r.pctOfInt8Ceiling.toFixed(0)}% of int8 ceiling)${fb}`);
  };
  console.log('\nkernel              shape                          layers');
  for (const s of shapes.stem) {
    const xf = mg.randn([B, s.h, s.h, 3], { seed: 1 });
    const wf = mg.randn([3, 3, 3, s.cout], { seed: 2 });
    const xq = i8([B, s.h, s.h, 4], 1);
    const wq = i8([3, 3, s.cout, 4], 2);
    const r = requant(s.cout, true);
    log(await pair('stem', `${s.h}x${s.h}x3 -> ${s.cout} s${s.stride}`, s.count, 2 * B * s.ho * s.ho * s.cout * 27,
      () => [mg.conv2d(xf, wf, { stride: s.stride, padding: 1 })], () => [int8Stem(xq, wq, r, { stride: s.stride, zx: -14 })], a.quick, int8Ceiling));
    for (const t of [xf, wf, xq, wq, r.bias, r.mult, r.table!]) t.release();
  }
  for (const s of pick(shapes.depthwise)) {
    const xf = mg.randn([B, s.h, s.h, s.c], { seed: 3 });
    const wf = mg.randn([s.k, s.k, s.c], { seed: 4 });
    const xq = i8([B, s.h, s.h, s.c], 3);
    const wq = i8([s.k, s.k, s.c], 4);
    const r = requant(s.c, true);
    const pad = (s.k - 1) / 2;
    log(await pair('depthwise', `${s.h}x${s.h}x${s.c} k${s.k} s${s.stride}`, s.count, 2 * B * s.ho * s.ho * s.c * s.k * s.k,
      () => [mg.depthwiseConv2d(xf, wf, { stride: s.stride, padding: pad })], () => [int8Depthwise(xq, wq, r, { stride: s.stride, zx: -100 })], a.quick, int8Ceiling));
    for (const t of [xf, wf, xq, wq, r.bias, r.mult, r.table!]) t.release();
  }
  for (const s of pick(shapes.pointwise)) {
    const xf = mg.randn([B, s.h, s.h, s.cin], { seed: 5 });
    const wf = mg.randn([s.cin, s.cout], { seed: 6 });
    const xq = i8([B, s.h, s.h, s.cin], 5);
    const wq = i8([s.cout, s.cin], 6);
    const r = requant(s.cout, false);
    log(await pair('pointwise', `${s.h}x${s.h} ${s.cin} -> ${s.cout}`, s.count, 2 * B * s.h * s.h * s.cin * s.cout,
      () => [mg.pointwiseConv2d(xf, wf)], () => [int8Gemm(xq, wq, r)], a.quick, int8Ceiling));
    for (const t of [xf, wf, xq, wq, r.bias, r.mult]) t.release();
  }
  for (const s of [...pick(shapes.seLinear), ...shapes.classifier]) {
    const outF = s.outF;
    const xf = mg.randn([B, s.inF], { seed: 7 });
    const wf = mg.randn([s.inF, outF], { seed: 8 });
    const bf = mg.randn([outF], { seed: 9 });
    const xq = i8([B, s.inF], 7);
    const wq = i8([outF, s.inF], 8);
    const r = requant(outF, false);
    const floatOut = outF % 4 !== 0 || s.name === 'classifier.3';
    log(await pair('linear', `${s.name} ${s.inF} -> ${outF}`, s.count, 2 * B * s.inF * outF,
      () => [mg.linear(xf, wf, bf)], () => [int8Gemm(xq, wq, r, { floatOut })], a.quick, int8Ceiling));
    for (const t of [xf, wf, bf, xq, wq, r.bias, r.mult]) t.release();
  }
  for (const s of pick(shapes.pool)) {
    const xf = mg.randn([B, s.h, s.h, s.c], { seed: 10 });
    const xq = i8([B, s.h, s.h, s.c], 10);
    log(await pair('pool', `${s.h}x${s.h}x${s.c}`, s.count, B * s.h * s.h * s.c, () => [mg.globalAvgPool(xf)], () => [int8Pool(xq, 3, -5, 0.01)], a.quick, int8Ceiling));
    xf.release();
    xq.release();
  }
  for (const s of pick(shapes.seScale)) {
    const xf = mg.randn([B, s.h, s.h, s.c], { seed: 11 });
    const gf = mg.randn([B, 1, 1, s.c], { seed: 12 });
    const xq = i8([B, s.h, s.h, s.c], 11);
    const gq = i8([B, s.c], 12);
    log(await pair('se-scale', `${s.h}x${s.h}x${s.c}`, s.count, B * s.h * s.h * s.c, () => [mg.mul(xf, gf)], () => [int8SeScale(xq, gq, { zx: 1, zg: -128, zp: 2, mult: 0.003 })], a.quick, int8Ceiling));
    for (const t of [xf, gf, xq, gq]) t.release();
  }
  const sum = (k: 'f32Ms' | 'int8Ms') => rows.reduce((acc, r) => acc + r[k] * r.count, 0);
  console.log(`\nall layers of one forward pass, kernels alone: float32 ${sum('f32Ms').toFixed(1)} ms, int8 ${sum('int8Ms').toFixed(1)} ms (${(sum('f32Ms') / sum('int8Ms')).toFixed(2)}x)`);

  // Whole network: eval-mode float32 (BatchNorm and activation as separate fused passes) vs the int8 model.
  mg.seed(1);
  const model = mg.models.mobilenetV3Small({ numClasses: 1000 });
  model.eval();
  const folded = await foldModel(model);
  const acts = new Map(activationNames(folded.plan).map((n) => [n, paramsForRange(-4, 6)]));
  const int8 = new Int8Model(quantizeNet(folded, acts));
  const e2e: Record<string, number> = {};
  for (const n of a.quick ? [1, 8] : [1, 32]) {
    const bytes = Uint8Array.from(randInts(n * S * S * 3, 0, 255, n));
    const px = mg.uploadImages(bytes, n, S);
    const reps = n === 1 ? 9 : 3;
    const f = await timeForward(() => mg.tidy(() => mg.noGrad(() => model.call(mg.prepareBatch(px, mg.identityParams(n, S), n, S, S)))), reps);
    const q = await timeForward(() => int8.logitsFromPixels(px, n, S), reps);
    px.release();
    e2e[`f32_b${n}_ms`] = f;
    e2e[`int8_b${n}_ms`] = q;
    console.log(`inference batch ${n}: float32 ${f.toFixed(1)} ms (${((1000 * n) / f).toFixed(1)} img/s), int8 ${q.toFixed(1)} ms (${((1000 * n) / q).toFixed(1)} img/s): ${(f / q).toFixed(2)}x`);
  }
  int8.release();
  model.release();
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify({ date: new Date().toISOString(), adapter: report.adapter, batch: B, imageSize: S, int8Path: int8Path(), ceilings: { f32GFlops: f32Ceiling, int8Gops: int8Ceiling }, kernels: rows, endToEnd: e2e }, null, 2) + '\n');
  console.log(`wrote ${a.out}`);
}
