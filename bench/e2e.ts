/**
 * The end-to-end benchmark (`npm run bench`, or alone with `npm run bench -- --e2e-only`):
 * MobileNetV3-Small training and inference as a user runs them, mobilegrad eager and with the
 * recorded step replayed, next to PyTorch on the CPU and (with --tfjs) TensorFlow.js-webgpu on the
 * same adapter, all in one run, one engine at a time. Writes bench/results/e2e.json and e2e.png.
 *
 * Workloads:
 *   train224   training step at 224 px, batch 32, batch already on the GPU (forward, backward,
 *              AdamW, BatchNorm statistics), 10 classes as the peers
 *   train64    the trainer (TrainingRun) at 64 px, batch 32, on the demo image folder: per step the
 *              batch is gathered, its augmentation drawn, uploaded, augmented on the GPU; images
 *              decoded once beforehand (timed separately); PyTorch uses a DataLoader that decodes
 *              and augments the PNGs every step
 *   infer1 / infer32   eval-mode forward at 224 px, a new input uploaded each call
 *   batch128   (--batch128) a few training steps at 224 px, batch 128: does it fit, peak memory
 */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as mg from '../src/index.js';
import { loadImageFolder } from '../src/data/dataset.js';
import { Rng } from '../src/tensor/random.js';
import { TrainingRun } from '../src/train/loop.js';
import { measure, type Measurement } from '../src/train/measure.js';
import { drawE2EChart, type ChartPanel } from './e2e-chart.js';
import { runTfjs, runTorch, type PeerResult, type PeerRow } from './e2e-peers.js';

/** Options of the end-to-end part (parsed by bench/bench.ts). */
export interface E2EOptions {
  /** Timed steps of each mobilegrad training measurement (default 5). */
  steps: number;
  /** Steps of the trainer run at 64 px timed after its warm-up (default 20). */
  folderSteps: number;
  folder: string;
  tfjs: boolean;
  tfjsDir?: string;
  batch128: boolean;
  /** Skip PyTorch (for quick looks at mobilegrad alone). */
  noTorch: boolean;
  /**
   * PyTorch thread counts, each a separate run (default [2], the peers' setting). On a busy
   * 2-core machine 2 threads can be 5-10x slower than 1: the table compares with the fastest.
   */
  torchThreads: number[];
  out: string;
  chart: string;
  /** Only these workloads (train224, train64, infer, batch128); all when empty. */
  only: string[];
  /**
   * Rounds alternating mobilegrad (replayed) and PyTorch (the first of torchThreads), workload by
   * workload, one right after the other, after the rest (default 0: none): training at 224/32,
   * the trainer with data at 64/32, inference at batch 1 and 32 (those selected). On a machine
   * whose speed drifts from minute to minute this compares like with like; the median of the
   * per-round ratios is reported for each.
   */
  alternate: number;
}

/** A trainer run's steady-state numbers at 64 px. */
export interface TrainerMeasurement {
  replay: boolean;
  overlap_data: boolean;
  steps_timed: number;
  ms_per_step: number;
  images_per_second: number;
  /** The fastest step interval. */
  best_ms_per_step: number;
  dispatches_per_step: number;
  submits_per_step: number;
  peak_gpu_bytes: number;
  recorder: { recorded: number; replayed: number; eager: number };
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', ...(fileURLToPath(import.meta.url).includes('/dist/') ? ['..'] : []));

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const f = (v: number | undefined | null, d = 1) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v.toFixed(d));

/** Runs the trainer on the folder's images at 64 px for warm-up + `steps` steps; times the steady state. */
async function measureTrainer(images: Awaited<ReturnType<typeof loadImageFolder>>, classes: string[], steps: number, replay: boolean, overlap: boolean): Promise<TrainerMeasurement> {
  const warm = 3;
  const batch = 32;
  const total = (warm + steps) * batch;
  const order = [...Array(images.count).keys()];
  const rng = new Rng(11);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const trainIdx = order.slice(0, Math.min(total, order.length));
  const device = mg.getDevice();
  await device.sync();
  device.pool.trim();
  device.pool.resetPeak();
  const run = new TrainingRun(
    {
      classes, imageSize: 64, batchSize: batch, epochs: 1, lr: 1e-3, labelSmoothing: 0.1, weightDecay: 0.01, bnMomentum: 0.01,
      bnRecalibrate: false, augmentation: 'standard', seed: 0, options: {}, replay, overlapData: overlap,
    },
    { images: images.images, labels: images.labels, imageSize: 64 },
    trainIdx,
    [],
  );
  const marks: { t: number; dispatches: number; submits: number }[] = [];
  await run.runEpoch({ onStep: () => marks.push({ t: performance.now(), dispatches: device.dispatcher.counters.dispatches, submits: device.dispatcher.counters.submits }) });
  const a = marks[warm - 1]!;
  const b = marks[marks.length - 1]!;
  const n = marks.length - warm;
  const ms = (b.t - a.t) / n;
  let best = Infinity;
  for (let i = warm; i < marks.length; i++) best = Math.min(best, marks[i]!.t - marks[i - 1]!.t);
  const peak = device.pool.stats().peakAllocatedBytes;
  const rec = run.recorder.stats;
  run.releaseStepPlan();
  run.optimizer.dispose();
  for (const [, t] of run.model.stateTensors()) t.release();
  await device.sync();
  device.pool.trim();
  return {
    replay, overlap_data: overlap, steps_timed: n, ms_per_step: ms, images_per_second: (batch / ms) * 1000, best_ms_per_step: best,
    dispatches_per_step: (b.dispatches - a.dispatches) / n, submits_per_step: (b.submits - a.submits) / n, peak_gpu_bytes: peak,
    recorder: { recorded: rec.recorded, replayed: rec.replayed, eager: rec.eager },
  };
}

/** Per workload, the fastest of a peer's runs (thread counts), each row marked with its run. */
function fastestPeer(runs: Record<string, PeerResult>, none: string): PeerResult {
  const ok = Object.entries(runs).filter(([, r]) => r.available);
  if (!ok.length) return { available: false, reason: Object.values(runs)[0]?.reason ?? none, rows: {}, seconds: 0 };
  const rows: Record<string, PeerRow> = {};
  for (const [threads, r] of ok) {
    for (const [k, row] of Object.entries(r.rows)) {
      if (!rows[k] || row.ms_per_step < rows[k]!.ms_per_step) rows[k] = { ...row, note: `${threads} thread${threads === '1' ? '' : 's'}${row.note ? '; ' + row.note : ''}` };
    }
  }
  return { available: true, version: ok.map(([, r]) => r.version).join(' | '), rows, seconds: ok.reduce((s, [, r]) => s + r.seconds, 0) };
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a !== undefined && b !== undefined && b > 0 ? a / b : null;
}

/** Runs the end-to-end benchmark; prints the table and writes the JSON and the chart. */
export async function runE2E(o: E2EOptions): Promise<void> {
  const t0 = performance.now();
  const want = (w: string) => o.only.length === 0 || o.only.includes(w);
  const report = await mg.init();
  const adapter = [report.adapter.description || report.adapter.device, report.adapter.architecture, report.adapter.vendor].filter(Boolean).join(', ');
  const cpu = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`;
  // Other processes on a shared machine skew every number (PyTorch's threads the most): say how busy it was.
  const loadStart = loadavg()[0]!;
  console.log(`\nmobilegrad end-to-end benchmark (${adapter}; ${cpu}; load average ${loadStart.toFixed(1)})`);
  const mgr: Record<string, unknown> = {};
  const log = (s: string) => process.stderr.write(`  ${s}\n`);

  let train224: { eager?: Measurement; replayed?: Measurement } = {};
  if (want('train224')) {
    train224 = {
      eager: await measure({ task: 'train', imageSize: 224, batchSize: 32, steps: Math.max(3, o.steps - 2), warmup: 2, replay: false }),
      replayed: await measure({ task: 'train', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 3, replay: true }),
    };
    log(`train 224/32: eager ${f(train224.eager!.images_per_second, 2)} img/s, replayed ${f(train224.replayed!.images_per_second, 2)} img/s`);
    mgr.train224 = train224;
  }

  let trainerData: Awaited<ReturnType<typeof loadImageFolder>> | undefined;
  let train64: {
    eager?: TrainerMeasurement; replayedNoOverlap?: TrainerMeasurement; replayed?: TrainerMeasurement;
    gpuBatch?: Measurement; gpuBatchEager?: Measurement; gpuBatchPerParamOptimizer?: Measurement; decode?: Record<string, number>;
  } = {};
  if (want('train64')) {
    const td = performance.now();
    const data = await loadImageFolder(o.folder, { imageSize: 64, cacheDir: null });
    trainerData = data;
    const decodeS = (performance.now() - td) / 1000;
    const decode = { images: data.count, seconds: decodeS, ms_per_image: (decodeS * 1000) / data.count };
    train64 = {
      decode,
      eager: await measureTrainer(data, data.classes, o.folderSteps, false, true),
      replayedNoOverlap: await measureTrainer(data, data.classes, o.folderSteps, true, false),
      replayed: await measureTrainer(data, data.classes, o.folderSteps, true, true),
      gpuBatch: await measure({ task: 'train', imageSize: 64, batchSize: 32, steps: o.steps * 2, warmup: 3, replay: true }),
      gpuBatchEager: await measure({ task: 'train', imageSize: 64, batchSize: 32, steps: o.steps * 2, warmup: 3, replay: false }),
      gpuBatchPerParamOptimizer: await measure({ task: 'train', imageSize: 64, batchSize: 32, steps: o.steps * 2, warmup: 3, replay: true, multiTensor: false }),
    };
    log(`train 64/32 (trainer, data): eager ${f(train64.eager!.images_per_second)} img/s, replayed ${f(train64.replayed!.images_per_second)} img/s (no overlap ${f(train64.replayedNoOverlap!.images_per_second)}); decode ${f(decode.ms_per_image, 3)} ms/image`);
    mgr.train64 = train64;
  }

  let infer: { b1eager?: Measurement; b1?: Measurement; b32eager?: Measurement; b32?: Measurement; b1Separate?: Measurement; b32Separate?: Measurement } = {};
  if (want('infer')) {
    // Fused Conv-BN-activation kernels (the default) next to the separate kernels, same run.
    infer = {
      b1eager: await measure({ task: 'infer', imageSize: 224, batchSize: 1, steps: 20, warmup: 3, replay: false }),
      b1: await measure({ task: 'infer', imageSize: 224, batchSize: 1, steps: 20, warmup: 3, replay: true }),
      b1Separate: await measure({ task: 'infer', imageSize: 224, batchSize: 1, steps: 20, warmup: 3, replay: true, fuse: false }),
      b32eager: await measure({ task: 'infer', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 2, replay: false }),
      b32: await measure({ task: 'infer', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 2, replay: true }),
      b32Separate: await measure({ task: 'infer', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 2, replay: true, fuse: false }),
    };
    log(`infer 224: batch 1 ${f(infer.b1!.ms_per_step, 2)} ms (separate kernels ${f(infer.b1Separate!.ms_per_step, 2)}), batch 32 ${f(infer.b32!.images_per_second)} img/s (separate kernels ${f(infer.b32Separate!.images_per_second)})`);
    mgr.infer = infer;
  }

  let batch128: Measurement | { error: string } | undefined;
  if (o.batch128 && want('batch128')) {
    try {
      batch128 = await measure({ task: 'train', imageSize: 224, batchSize: 128, steps: 2, warmup: 3, replay: true });
      log(`train 224/128: ${f(batch128.images_per_second, 2)} img/s, peak ${MiB(batch128.peak_gpu_bytes)}`);
    } catch (e) {
      batch128 = { error: (e as Error).message };
      log(`train 224/128 failed: ${(e as Error).message}`);
    }
    mgr.batch128 = batch128;
  }

  const only: string[] = [];
  if (want('train224')) only.push('train224');
  if (want('train64')) only.push('train64');
  if (want('infer')) only.push('infer1', 'infer32');
  const torchRuns: Record<string, PeerResult> = {};
  for (const threads of o.noTorch ? [] : o.torchThreads) {
    const r = runTorch(ROOT, { folder: o.folder, threads, steps: o.steps, folderSteps: o.folderSteps, only });
    torchRuns[threads] = r;
    log(r.available ? `PyTorch: ${r.version} (${f(r.seconds, 0)} s)` : `PyTorch: ${r.reason}`);
  }
  const torch = fastestPeer(torchRuns, o.noTorch ? 'skipped (--no-torch)' : 'PyTorch not run');
  const tfjs: PeerResult | null = o.tfjs ? runTfjs(ROOT, { dir: o.tfjsDir, steps: 3, warmup: 2, only }) : null;
  if (tfjs) log(tfjs.available ? `TensorFlow.js: ${tfjs.version} (${f(tfjs.seconds, 0)} s)` : `TensorFlow.js: ${tfjs.reason}`);

  // The table.
  const pt = torch.rows;
  const tj = tfjs?.rows ?? {};
  // [name, unit, mobilegrad eager, mobilegrad replayed, PyTorch, TF.js, best step ms of replayed and PyTorch]
  const rows: [string, string, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined, number | undefined][] = [
    ['train 224/32, batch on GPU', 'img/s', train224.eager?.images_per_second, train224.replayed?.images_per_second, pt.train224?.images_per_second, tj.train224?.images_per_second, train224.replayed?.best_ms_per_step, pt.train224?.best_ms_per_step],
    ['train 64/32, trainer + data', 'img/s', train64.eager?.images_per_second, train64.replayed?.images_per_second, pt.train64?.images_per_second, tj.train64?.images_per_second, train64.replayed?.best_ms_per_step, pt.train64?.best_ms_per_step],
    ['infer 224, batch 1 latency', 'ms', infer.b1eager?.ms_per_step, infer.b1?.ms_per_step, pt.infer1?.ms_per_step, tj.infer1?.ms_per_step, infer.b1?.best_ms_per_step, pt.infer1?.best_ms_per_step],
    ['infer 224, batch 32', 'img/s', infer.b32eager?.images_per_second, infer.b32?.images_per_second, pt.infer32?.images_per_second, tj.infer32?.images_per_second, infer.b32?.best_ms_per_step, pt.infer32?.best_ms_per_step],
  ];
  const ratios: Record<string, { vs_pytorch: number | null; vs_pytorch_best_step: number | null; vs_tfjs: number | null }> = {};
  console.log('');
  console.log(`${'workload'.padEnd(30)} ${'unit'.padEnd(5)} ${'mg eager'.padStart(10)} ${'mg replay'.padStart(10)} ${'PyTorch'.padStart(10)} ${'TF.js'.padStart(10)} ${'mg/PyTorch'.padStart(11)} ${'(best step)'.padStart(11)} ${'mg/TF.js'.padStart(9)}`);
  for (const [name, unit, e, r, p, t, rBest, pBest] of rows) {
    if (e === undefined && r === undefined) continue;
    // Speed ratios: >1 means mobilegrad is faster (for latency rows, PyTorch ms / mobilegrad ms).
    const higherBetter = unit !== 'ms';
    const vsP = higherBetter ? ratio(r, p) : ratio(p, r);
    const vsT = higherBetter ? ratio(r, t) : ratio(t, r);
    const vsBest = ratio(pBest, rBest);
    ratios[name] = { vs_pytorch: vsP, vs_pytorch_best_step: vsBest, vs_tfjs: vsT };
    const d = unit === 'ms' ? 2 : 1;
    const x = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits) + 'x');
    console.log(`${name.padEnd(30)} ${unit.padEnd(5)} ${f(e, d).padStart(10)} ${f(r, d).padStart(10)} ${f(p, d).padStart(10)} ${f(t, d).padStart(10)} ${x(vsP, 2).padStart(11)} ${x(vsBest, 2).padStart(11)} ${x(vsT, 1).padStart(9)}`);
  }
  console.log('(medians of the timed steps; "best step": the fastest step of each, less exposed to other processes)');
  for (const [threads, r] of Object.entries(torchRuns)) {
    if (!r.available) continue;
    const cells = Object.entries(r.rows).map(([k, row]) => `${k} ${k === 'infer1' ? `${f(row.ms_per_step, 1)} ms` : `${f(row.images_per_second, 1)} img/s`}`);
    console.log(`PyTorch, ${threads} thread${threads === '1' ? '' : 's'}: ${cells.join(', ')}`);
  }
  console.log('');
  const cost = (label: string, m?: Measurement) => m && console.log(`${label.padEnd(30)} JS ${f(m.js_ms_per_step, 3).padStart(8)} ms/step (encode ${f(m.js_encode_ms_per_step, 2)}, submit ${f(m.js_submit_ms_per_step, 2)}), ${f(m.dispatches_per_step, 0).padStart(4)} dispatches, ${f(m.submits_per_step, 1)} submits, peak ${MiB(m.peak_gpu_bytes)}${m.plan_bytes ? ` (plan ${MiB(m.plan_bytes)})` : ''}`);
  cost('train 224/32 eager', train224.eager);
  cost('train 224/32 replayed', train224.replayed);
  cost('train 64/32 (GPU batch) eager', train64.gpuBatchEager);
  cost('train 64/32 (GPU batch) replayed', train64.gpuBatch);
  cost('  same, optimizer per parameter', train64.gpuBatchPerParamOptimizer);
  cost('infer 224 b1 eager', infer.b1eager);
  cost('infer 224 b1 replayed', infer.b1);
  cost('infer 224 b32 replayed', infer.b32);
  cost('  b1, separate conv/BN kernels', infer.b1Separate);
  cost('  b32, separate conv/BN kernels', infer.b32Separate);
  if (infer.b1 && infer.b1Separate && infer.b32 && infer.b32Separate) {
    console.log(`fused Conv-BN-activation inference: batch 1 ${f(infer.b1.ms_per_step, 2)} ms vs ${f(infer.b1Separate.ms_per_step, 2)} ms separate (${f(infer.b1Separate.ms_per_step / infer.b1.ms_per_step, 2)}x), ` +
      `batch 32 ${f(infer.b32.images_per_second)} vs ${f(infer.b32Separate.images_per_second)} img/s (${f(infer.b32.images_per_second / infer.b32Separate.images_per_second, 2)}x)`);
  }
  if (train64.replayed) {
    const t = train64;
    console.log(`trainer 64/32: eager ${f(t.eager!.images_per_second)} img/s, replayed without data overlap ${f(t.replayedNoOverlap!.images_per_second)}, replayed with overlap ${f(t.replayed!.images_per_second)}; ` +
      `GPU-resident batch eager ${f(t.gpuBatchEager!.images_per_second)}, replayed ${f(t.gpuBatch!.images_per_second)} (optimizer per parameter: ${f(t.gpuBatchPerParamOptimizer!.images_per_second)}) img/s; decoding ${t.decode!.images} images once: ${f(t.decode!.seconds, 2)} s (${f(t.decode!.ms_per_image, 3)} ms/image)`);
  }
  if (batch128) console.log('error' in batch128 ? `train 224/128: failed: ${batch128.error}` : `train 224/128: ${f(batch128.images_per_second, 2)} img/s, ${f(batch128.ms_per_step, 0)} ms/step, peak ${MiB(batch128.peak_gpu_bytes)}`);
  if (!torch.available) console.log(`PyTorch: ${torch.reason}`);
  if (tfjs && !tfjs.available) console.log(`TensorFlow.js: ${tfjs.reason}`);
  if (!tfjs) console.log('TensorFlow.js: not run (add --tfjs; minutes at 224 px)');

  // Alternation: mobilegrad and PyTorch one right after the other, workload by workload, round by round.
  // Ratios are speed ratios (mobilegrad / PyTorch images per second; PyTorch / mobilegrad latency).
  type AltRound = { mobilegrad: number; pytorch: number; ratio: number };
  const alternation: { pytorch_threads: number; rounds: number; workloads: Record<string, { unit: string; rounds: AltRound[]; median_ratio: number }> } | undefined =
    o.alternate > 0 && !o.noTorch ? { pytorch_threads: o.torchThreads[0]!, rounds: o.alternate, workloads: {} } : undefined;
  if (alternation) {
    const threads = alternation.pytorch_threads;
    const alt: { name: string; unit: string; mg: () => Promise<number> }[] = [];
    if (want('train224')) alt.push({ name: 'train224', unit: 'img/s', mg: async () => (await measure({ task: 'train', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 3, replay: true })).images_per_second });
    if (want('train64') && trainerData) {
      const d = trainerData;
      alt.push({ name: 'train64', unit: 'img/s', mg: async () => (await measureTrainer(d, d.classes, o.folderSteps, true, true)).images_per_second });
    }
    if (want('infer')) {
      alt.push({ name: 'infer1', unit: 'ms', mg: async () => (await measure({ task: 'infer', imageSize: 224, batchSize: 1, steps: 20, warmup: 3, replay: true })).ms_per_step });
      alt.push({ name: 'infer32', unit: 'img/s', mg: async () => (await measure({ task: 'infer', imageSize: 224, batchSize: 32, steps: o.steps, warmup: 2, replay: true })).images_per_second });
    }
    const done = new Set<string>();
    for (let i = 0; i < o.alternate; i++) {
      for (const w of alt) {
        if (done.has(w.name)) continue;
        const m = await w.mg();
        const p = runTorch(ROOT, { folder: o.folder, threads, steps: o.steps, folderSteps: o.folderSteps, only: [w.name] });
        const row = p.available ? p.rows[w.name] : undefined;
        const pv = row ? (w.unit === 'ms' ? row.ms_per_step : row.images_per_second) : undefined;
        if (pv === undefined) {
          done.add(w.name);
          continue;
        }
        const ratio = w.unit === 'ms' ? pv / m : m / pv;
        (alternation.workloads[w.name] ??= { unit: w.unit, rounds: [], median_ratio: NaN }).rounds.push({ mobilegrad: m, pytorch: pv, ratio });
        log(`alternation round ${i + 1}, ${w.name}: mobilegrad ${f(m)} ${w.unit}, PyTorch ${f(pv)} ${w.unit} (${f(ratio, 2)}x)`);
      }
    }
    for (const [name, a] of Object.entries(alternation.workloads)) {
      const sorted = a.rounds.map((r) => r.ratio).sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      a.median_ratio = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      console.log(`alternation, ${name}, mobilegrad replayed vs PyTorch (${threads} threads), ${a.rounds.length} rounds: ` +
        a.rounds.map((r) => `${f(r.mobilegrad)}/${f(r.pytorch)}`).join(', ') + ` ${a.unit}; median speed ratio ${f(a.median_ratio, 2)}x`);
    }
  }

  const seconds = (performance.now() - t0) / 1000;
  const json = {
    meta: {
      date: new Date().toISOString(), adapter, cpu, node: process.version, command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), seconds,
      load_average_start: loadStart, load_average_end: loadavg()[0]!,
    },
    mobilegrad: mgr,
    pytorch: { fastest: torch, runs: torchRuns },
    tfjs,
    ratios,
    alternation,
  };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(json, null, 2) + '\n');
  const blue: [number, number, number] = [31, 100, 180];
  const light: [number, number, number] = [150, 180, 220];
  const orange: [number, number, number] = [230, 110, 20];
  const grey: [number, number, number] = [140, 140, 140];
  // The single pass's ratio, and the alternation's median where it ran (the fairer one on a drifting machine).
  const alt = (w: string) => {
    const a = alternation?.workloads[w];
    return a ? `, alternation median ${a.median_ratio.toFixed(2)}x` : '';
  };
  const note = (v: number | undefined, p: number | undefined, w: string) => (v !== undefined && p ? `${(v / p).toFixed(2)}x PyTorch${alt(w)}` : undefined);
  const panels: ChartPanel[] = [
    { title: 'Training, 224 px, batch 32, batch on the GPU', unit: 'images/s', bars: [
      { label: 'mobilegrad eager', value: train224.eager?.images_per_second ?? null, color: light },
      { label: 'mobilegrad replayed', value: train224.replayed?.images_per_second ?? null, color: blue, note: note(train224.replayed?.images_per_second, pt.train224?.images_per_second, 'train224') },
      { label: 'PyTorch CPU', value: pt.train224?.images_per_second ?? null, color: orange, note: pt.train224?.note },
      { label: 'TF.js webgpu', value: tj.train224?.images_per_second ?? null, color: grey },
    ] },
    { title: 'Training, 64 px, batch 32, with data loading', unit: 'images/s', bars: [
      { label: 'mobilegrad eager', value: train64.eager?.images_per_second ?? null, color: light },
      { label: 'mobilegrad replayed', value: train64.replayed?.images_per_second ?? null, color: blue, note: note(train64.replayed?.images_per_second, pt.train64?.images_per_second, 'train64') },
      { label: 'PyTorch CPU + DataLoader', value: pt.train64?.images_per_second ?? null, color: orange, note: pt.train64?.note?.split(';')[0] },
      { label: 'TF.js webgpu (GPU batch)', value: tj.train64?.images_per_second ?? null, color: grey },
    ] },
    { title: 'Inference, 224 px, batch 32', unit: 'images/s', bars: [
      { label: 'mobilegrad replayed', value: infer.b32?.images_per_second ?? null, color: blue, note: note(infer.b32?.images_per_second, pt.infer32?.images_per_second, 'infer32') },
      { label: 'PyTorch CPU', value: pt.infer32?.images_per_second ?? null, color: orange, note: pt.infer32?.note },
      { label: 'TF.js webgpu', value: tj.infer32?.images_per_second ?? null, color: grey },
    ] },
    { title: 'Inference, 224 px, batch 1', unit: 'images/s = 1000 / latency ms', bars: [
      { label: 'mobilegrad replayed', value: infer.b1 ? 1000 / infer.b1.ms_per_step : null, color: blue, note: infer.b1 ? `${infer.b1.ms_per_step.toFixed(1)} ms${alt('infer1')}` : undefined },
      { label: 'PyTorch CPU', value: pt.infer1 ? 1000 / pt.infer1.ms_per_step : null, color: orange, note: pt.infer1 ? `${pt.infer1.ms_per_step.toFixed(1)} ms, ${pt.infer1.note}` : undefined },
      { label: 'TF.js webgpu', value: tj.infer1 ? 1000 / tj.infer1.ms_per_step : null, color: grey, note: tj.infer1 ? `${tj.infer1.ms_per_step.toFixed(0)} ms` : undefined },
    ] },
  ].filter((p) => p.bars.some((b) => b.value !== null));
  writeFileSync(o.chart, drawE2EChart('MobileNetV3-Small end to end', `${adapter} | ${cpu} | load ${loadStart.toFixed(1)}-${loadavg()[0]!.toFixed(1)} | ${new Date().toISOString().slice(0, 10)}`, panels));
  console.log(`\nwrote ${o.out} and ${o.chart} (${seconds.toFixed(0)} s)`);
}
