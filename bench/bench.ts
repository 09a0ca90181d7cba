/**
 * `npm run bench [-- --quick] [-- --filter NAME]`: every kernel at MobileNetV3-Small's real layer
 * shapes (batch 32, 224 px), forward and each gradient, next to the adapter's ceilings measured in
 * the same run. Writes the same data to bench/results/kernels.json.
 *
 *   --quick          a subset of the shapes at batch 8, fewer repetitions
 *   --filter NAME    only cases whose name or group contains NAME (case-insensitive; repeatable)
 *   --split          also time each dispatch of a multi-kernel pass on its own
 *   --batch N        another batch size
 *   --image-size N   the layer shapes at another input size (default 224; the trainer's demo uses 64)
 *   --bn-small-rows N  GPUs: training BatchNorm's one-dispatch kernels up to N rows per thread (0: never; default 128)
 *   --bn-path P        training BatchNorm's kernels: auto (default: by size and adapter), two-stage, workgroup or serial
 *   --out FILE       JSON path (default bench/results/kernels.json)
 *   --int8           int8 kernels against their float32 twins, int8 vs float32 inference (bench/int8.ts)
 *
 * Then the end-to-end benchmark (bench/e2e.ts): training and inference next to PyTorch (and
 * TensorFlow.js with --tfjs), JSON in bench/results/e2e.json, chart in bench/results/e2e.png.
 *   --e2e-only       only the end-to-end part        --no-e2e        only the kernels
 *   --tfjs           also TensorFlow.js-webgpu (slow) --tfjs-dir DIR  where it is installed
 *   --batch128       also a few steps at batch 128    --no-torch      skip PyTorch
 *   --alternate N    N rounds alternating mobilegrad and PyTorch workload by workload (train 224/32, trainer 64/32, inference b1/b32; median ratios)
 *   --e2e-steps N    timed training steps (5)         --folder-steps N  trainer steps at 64 px (20)
 *   --e2e-only-workload W   train224, train64, infer or batch128 (repeatable)
 *   --torch-threads 2,1      PyTorch thread counts, one run each (2); the table uses the fastest
 */
import * as mg from '../src/index.js';
import type { DispatchRecord } from '../src/device/dispatcher.js';
import { setBatchNormPath, setBatchNormSmallRows, type BatchNormPath } from '../src/ops/batchnorm.js';

const BN_PATHS: readonly BatchNormPath[] = ['auto', 'two-stage', 'workgroup', 'serial'];
import { bestOf, measureCeilings, RooflineProbes, type Ceilings, type RooflineCeilings } from './ceilings.js';
import { runE2E, type E2EOptions } from './e2e.js';
import { runInt8Bench } from './int8.js';
import { buildCases, type BenchCase, type Pass } from './kernel-cases.js';
import { ceilingLines, groupLine, kernelLines, headerLines, LEGEND, roofCountLines, rowLine, summaryLines, writeJson, type Meta, type Row } from './report.js';
import { mobilenetShapes, type BenchShapes } from './shapes.js';

interface Args {
  quick: boolean;
  filters: string[];
  batch: number | null;
  imageSize: number;
  out: string;
  split: boolean;
  kernels: boolean;
  e2e: E2EOptions | null;
}

/** A bad command line: reported in one line with exit code 2, no stack trace. */
class BenchUsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, filters: [], batch: null, imageSize: 224, out: 'bench/results/kernels.json', split: false, kernels: true, e2e: null };
  const e2e: E2EOptions = {
    steps: 5, folderSteps: 20, folder: 'data/fashion-mnist/train', tfjs: false, batch128: false, noTorch: false, torchThreads: [2], alternate: 0,
    out: 'bench/results/e2e.json', chart: 'bench/results/e2e.png', only: [],
  };
  let runE2e = true;
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const value = () => {
      const eq = x.indexOf('=');
      if (eq >= 0) return x.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${x} needs a value`);
      return v;
    };
    if (x === '--quick') a.quick = true;
    else if (x === '--split') a.split = true;
    else if (x === '--filter' || x.startsWith('--filter=')) a.filters.push(value().toLowerCase());
    else if (x === '--batch' || x.startsWith('--batch=')) a.batch = Number(value());
    else if (x === '--image-size' || x.startsWith('--image-size=')) a.imageSize = Number(value());
    else if (x === '--bn-small-rows' || x.startsWith('--bn-small-rows=')) {
      const rows = Number(value());
      if (!(Number.isInteger(rows) && rows >= 0)) throw new BenchUsageError('--bn-small-rows takes a whole number of rows per thread, 0 or more (0: the two-stage kernels only)');
      setBatchNormSmallRows(rows);
    } else if (x === '--bn-path' || x.startsWith('--bn-path=')) {
      const path = value();
      if (!BN_PATHS.includes(path as BatchNormPath)) throw new BenchUsageError(`--bn-path takes one of ${BN_PATHS.join(', ')}, got '${path}'`);
      setBatchNormPath(path as BatchNormPath);
    }
    else if (x === '--out' || x.startsWith('--out=')) a.out = value();
    else if (x === '--e2e-only') a.kernels = false;
    else if (x === '--no-e2e') runE2e = false;
    else if (x === '--tfjs') e2e.tfjs = true;
    else if (x === '--tfjs-dir' || x.startsWith('--tfjs-dir=')) e2e.tfjsDir = value();
    else if (x === '--batch128') e2e.batch128 = true;
    else if (x === '--no-torch') e2e.noTorch = true;
    else if (x === '--torch-threads' || x.startsWith('--torch-threads=')) e2e.torchThreads = value().split(',').map(Number);
    else if (x === '--e2e-steps' || x.startsWith('--e2e-steps=')) e2e.steps = Number(value());
    else if (x === '--alternate' || x.startsWith('--alternate=')) e2e.alternate = Number(value());
    else if (x === '--folder-steps' || x.startsWith('--folder-steps=')) e2e.folderSteps = Number(value());
    else if (x === '--e2e-only-workload' || x.startsWith('--e2e-only-workload=')) e2e.only.push(value());
    else if (x === '--help' || x === '-h') {
      console.log('usage: npm run bench -- [--quick] [--filter NAME]... [--split] [--batch N] [--image-size N] [--bn-small-rows N] [--bn-path P] [--out FILE] [--e2e-only | --no-e2e] [--tfjs [--tfjs-dir DIR]] [--batch128] [--no-torch] [--e2e-steps N] [--folder-steps N] [--alternate N]');
      process.exit(0);
    } else throw new BenchUsageError(`unknown argument ${x} (try --help)`);
  }
  if (a.batch !== null && !(Number.isInteger(a.batch) && a.batch > 0)) throw new BenchUsageError('--batch must be a positive integer (try --help)');
  if (!(Number.isInteger(a.imageSize) && a.imageSize >= 32)) throw new BenchUsageError('--image-size must be a whole number of pixels, at least 32 (the network downsamples 32x)');
  if (!e2e.torchThreads.every((t) => Number.isInteger(t) && t > 0)) throw new BenchUsageError('--torch-threads takes positive integers, e.g. 2 or 2,1');
  if (!(Number.isInteger(e2e.steps) && e2e.steps > 0) || !(Number.isInteger(e2e.folderSteps) && e2e.folderSteps > 0)) throw new BenchUsageError('--e2e-steps and --folder-steps must be positive integers');
  if (!(Number.isInteger(e2e.alternate) && e2e.alternate >= 0)) throw new BenchUsageError('--alternate takes a whole number of rounds, e.g. 4');
  // The quick and filtered runs are about kernels: no end-to-end part unless asked for alone.
  if (runE2e && (!a.kernels || (!a.quick && !a.filters.length))) a.e2e = e2e;
  return a;
}

/** The quick subset: first, middle and last of each list (distinct). */
function quickSubset(s: BenchShapes): BenchShapes {
  const pick = <T>(xs: T[], which: ('first' | 'mid' | 'last')[]): T[] => {
    const idx = new Set(which.map((w) => (w === 'first' ? 0 : w === 'mid' ? xs.length >> 1 : xs.length - 1)));
    return [...idx].filter((i) => i >= 0 && i < xs.length).sort((p, q) => p - q).map((i) => xs[i]!);
  };
  return {
    ...s,
    depthwise: pick(s.depthwise, ['first', 'mid', 'last']),
    pointwise: pick(s.pointwise, ['first', 'mid', 'last']),
    norm: pick(s.norm, ['first', 'last']),
    activation: pick(s.activation, ['first']),
    pool: pick(s.pool, ['last']),
    seScale: pick(s.seScale, ['first']),
    residual: pick(s.residual, ['first']),
    seLinear: pick(s.seLinear, ['last']),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Repetitions of each probe between cases (the best counts). */
const LOCAL_PROBE_REPS = 3;

/** Seconds for `times` replays of `records` recorded into one submit, from submit to completion. */
async function timeReplays(records: DispatchRecord[], times: number): Promise<number> {
  const d = mg.getDevice().dispatcher;
  for (let i = 0; i < times; i++) d.replay(records);
  const t0 = performance.now();
  await mg.sync();
  return (performance.now() - t0) / 1000;
}

interface Timing {
  perSubmit: number;
  reps: number;
  samplesMs: number[];
  ms: number;
  /** With --split: each dispatch timed alone, ms. */
  kernelMs?: number[];
}

/** Warm-up, a single-run estimate, then `reps` submits of R replays each. */
async function timePass(records: DispatchRecord[], quick: boolean): Promise<Timing> {
  await timeReplays(records, 1); // warm-up
  const one = await timeReplays(records, 1);
  const target = quick ? 0.03 : 0.06; // seconds per timed submit
  // The uniform ring holds 4096 dispatches per submit; stay well inside it.
  const most = Math.max(1, Math.floor(3000 / records.length));
  const perSubmit = Math.max(1, Math.min(most, 200, Math.ceil(target / Math.max(one, 1e-6))));
  // Few repetitions for the big shapes (a third one still outvotes a neighbour's burst), more for small ones.
  const reps = quick ? 3 : one > 0.05 ? 3 : 5;
  const samplesMs: number[] = [];
  for (let r = 0; r < reps; r++) samplesMs.push(((await timeReplays(records, perSubmit)) / perSubmit) * 1000);
  return { perSubmit, reps, samplesMs, ms: median(samplesMs) };
}

/** The roofline bound of a pass against one set of ceilings: the three terms (ms) and the largest. */
function roofOf(p: Pass, ceil: RooflineCeilings): { fmaMs: number; memMs: number; loadMs: number; roofMs: number; bound: Row['bound'] } {
  const fmaMs = (p.flops / (ceil.fmaGFlops * 1e9)) * 1000;
  const memMs = (p.bytes / (ceil.shaderCopyGBps * 1e9)) * 1000;
  // Minimal vec4 loads: the bytes the pass must read, 16 to a load; only the total where that is all the case declares.
  const loadMs = ((p.readBytes ?? p.bytes) / 16 / (ceil.loadGLoads * 1e9)) * 1000;
  const roofMs = Math.max(fmaMs, memMs, loadMs);
  return { fmaMs, memMs, loadMs, roofMs, bound: loadMs > fmaMs && loadMs > memMs ? 'load' : fmaMs > memMs ? 'compute' : 'memory' };
}

function toRow(c: BenchCase, p: Pass, t: Timing, ceil: Ceilings, local: RooflineCeilings): Row {
  const s = t.ms / 1000;
  const readBytes = p.readBytes ?? p.bytes;
  const loads = readBytes / 16;
  const roof = roofOf(p, ceil);
  const near = roofOf(p, local);
  return {
    name: c.name,
    group: c.group,
    shape: c.shape,
    count: c.count,
    pass: p.pass,
    kernels: p.records.map((r) => r.kernel.name),
    dispatches: p.records.length,
    perSubmit: t.perSubmit,
    reps: t.reps,
    samplesMs: t.samplesMs.map((x) => Number(x.toPrecision(5))),
    ms: t.ms,
    flops: p.flops,
    bytes: p.bytes,
    readBytes,
    readBytesKnown: p.readBytes !== undefined,
    loads,
    gflops: p.flops / s / 1e9,
    gbps: p.bytes / s / 1e9,
    gloads: loads / s / 1e9,
    ...roof,
    roofPct: (roof.roofMs / t.ms) * 100,
    localCeilings: { shaderCopyGBps: local.shaderCopyGBps, fmaGFlops: local.fmaGFlops, loadGLoads: local.loadGLoads },
    localRoofMs: near.roofMs,
    localRoofPct: (near.roofMs / t.ms) * 100,
    launchPct: ((p.records.length * ceil.dispatchUs) / 1000 / t.ms) * 100,
    ...(t.kernelMs ? { kernelMs: t.kernelMs } : {}),
    ...(c.flopNote ? { flopNote: c.flopNote } : {}),
  };
}

/** The better of two probe readings (higher throughputs). */
function bestRoof(a: RooflineCeilings, b: RooflineCeilings): RooflineCeilings {
  return { shaderCopyGBps: Math.max(a.shaderCopyGBps, b.shaderCopyGBps), fmaGFlops: Math.max(a.fmaGFlops, b.fmaGFlops), loadGLoads: Math.max(a.loadGLoads, b.loadGLoads) };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  // `--int8`: int8 kernels next to their float32 twins, and int8 vs float32 inference (bench/int8.ts).
  if (process.argv.includes('--int8')) return runInt8Bench(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  if (!args.kernels) {
    await runE2E(args.e2e!);
    return;
  }
  const batch = args.batch ?? (args.quick ? 8 : 32);
  const imageSize = args.imageSize;
  const report = await mg.init();
  const adapter = [report.adapter.description || report.adapter.device, report.adapter.architecture, report.adapter.vendor].filter(Boolean).join(', ');
  const meta: Meta = {
    date: new Date().toISOString(),
    adapter,
    node: process.version,
    batch,
    imageSize,
    quick: args.quick,
    filter: args.filters.length ? args.filters.join(',') : null,
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  };
  console.log(`mobilegrad kernel benchmark: MobileNetV3-Small layer shapes at ${imageSize} px, batch ${batch}${args.quick ? ' (quick subset)' : ''}`);
  console.log(`adapter: ${adapter} (${report.runtime}, node ${process.version})`);

  const before = await measureCeilings(mg.getDevice().device, args.quick);

  let shapes = mobilenetShapes(imageSize);
  if (args.quick) shapes = quickSubset(shapes);
  let cases = buildCases(shapes, batch);
  if (args.filters.length) {
    cases = cases.filter((c) => args.filters.some((f) => c.name.toLowerCase().includes(f) || c.group.includes(f)));
    if (!cases.length) throw new BenchUsageError(`no case matches --filter ${args.filters.join(', ')}`);
  }

  // Measure everything first (progress on stderr), then print the table against the ceilings.
  // The machine's speed drifts (a CPU adapter shares its cores): the three roofline probes run
  // again between cases, and each row is also compared with the probes taken just before and after it.
  const probes = new RooflineProbes(mg.getDevice().device, true);
  let probedBefore = await probes.roofline(LOCAL_PROBE_REPS);
  const measured: { c: BenchCase; p: Pass; t: Timing; local: RooflineCeilings }[] = [];
  for (const [i, c] of cases.entries()) {
    const first = measured.length;
    const prepared = c.prepare();
    const done: string[] = [];
    try {
      await mg.sync(); // the captured first run: compiles pipelines, faults in buffers
      for (const p of prepared.passes) {
        if (!p.records.length) continue;
        const t = await timePass(p.records, args.quick);
        if (args.split && p.records.length > 1) {
          t.kernelMs = [];
          for (const r of p.records) t.kernelMs.push((await timePass([r], true)).ms);
        }
        measured.push({ c, p, t, local: probedBefore });
        done.push(`${p.pass} ${t.ms.toFixed(3)} ms`);
      }
    } finally {
      prepared.dispose();
    }
    const probedAfter = await probes.roofline(LOCAL_PROBE_REPS);
    for (const m of measured.slice(first)) m.local = bestRoof(probedBefore, probedAfter);
    probedBefore = probedAfter;
    process.stderr.write(`  [${i + 1}/${cases.length}] ${c.name}: ${done.join(', ')}\n`);
  }
  probes.destroy();
  const after = await measureCeilings(mg.getDevice().device, args.quick);
  const ceilings = bestOf(before, after);

  console.log('');
  for (const l of ceilingLines(before, after, ceilings)) console.log(l);
  console.log('');
  for (const l of headerLines()) console.log(l);
  const rows: Row[] = [];
  let group = '';
  let last = '';
  for (const { c, p, t, local } of measured) {
    if (c.group !== group) {
      group = c.group;
      console.log(groupLine(group));
    }
    const row = toRow(c, p, t, ceilings, local);
    rows.push(row);
    console.log(rowLine(row, c.name !== last));
    if (row.kernelMs) for (const l of kernelLines(row)) console.log(l);
    last = c.name;
  }
  console.log('');
  for (const l of summaryLines(rows, batch)) console.log(l);
  console.log('');
  for (const l of roofCountLines(rows)) console.log(l);
  console.log('');
  for (const l of LEGEND) console.log(l);
  meta.wallSeconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  writeJson(args.out, meta, { before, after, used: ceilings }, rows);
  console.log(`\nwrote ${args.out} (${rows.length} rows, ${meta.wallSeconds} s)`);
  if (args.e2e) await runE2E(args.e2e);
}

main().then(
  () => process.exit(0),
  (e) => {
    if (e instanceof BenchUsageError) {
      console.error(`bench: ${e.message}`);
      process.exit(2);
    }
    console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    process.exit(1);
  },
);
