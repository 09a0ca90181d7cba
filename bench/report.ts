/** The benchmark's table (printed as rows come in) and its JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ceilings, RooflineCeilings } from './ceilings.js';

/** One measured pass of one case. */
export interface Row {
  name: string;
  group: string;
  shape: string;
  /** Layers with this shape in one forward pass. */
  count: number;
  pass: string;
  /** Kernels the pass dispatches, in order. */
  kernels: string[];
  dispatches: number;
  /** Replays of the pass in one submit, and how many such submits were timed. */
  perSubmit: number;
  reps: number;
  /** Each timed submit divided by perSubmit, ms. */
  samplesMs: number[];
  /** Median of samplesMs. */
  ms: number;
  flops: number;
  bytes: number;
  /** The read part of `bytes` (each input once); equals `bytes` where readBytesKnown is false. */
  readBytes: number;
  /** False where the case declares only total bytes (defineOp cases): then loads is an upper bound. */
  readBytesKnown: boolean;
  /** Minimal vec4 loads: readBytes / 16 (every input value loaded once, four to a load). */
  loads: number;
  gflops: number;
  gbps: number;
  /** Achieved minimal loads per second, 1e9 (loads / ms). */
  gloads: number;
  /** The three roofline terms, ms: flops / FMA ceiling, bytes / shader-copy bandwidth, loads / load-issue rate. */
  fmaMs: number;
  memMs: number;
  loadMs: number;
  /** max(fmaMs, memMs, loadMs), ms. */
  roofMs: number;
  /** roofMs / ms, percent. */
  roofPct: number;
  /** The roofline probes taken just before and just after this case (the better of the two readings). */
  localCeilings: RooflineCeilings;
  /** The bound against localCeilings, ms, and as a percentage of ms. */
  localRoofMs: number;
  localRoofPct: number;
  bound: 'compute' | 'memory' | 'load';
  /** dispatches x the empty-dispatch cost, as a share of ms (percent). */
  launchPct: number;
  /** With --split: each dispatch of the pass timed alone, ms (same order as kernels). */
  kernelMs?: number[];
  flopNote?: string;
}

export interface Meta {
  date: string;
  adapter: string;
  node: string;
  batch: number;
  imageSize: number;
  quick: boolean;
  filter: string | null;
  command: string;
  wallSeconds?: number;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function num(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '-';
  return x.toFixed(digits);
}

/** Milliseconds with 3 significant-ish digits. */
function ms(x: number): string {
  return x >= 100 ? x.toFixed(1) : x >= 10 ? x.toFixed(2) : x >= 1 ? x.toFixed(3) : x.toFixed(4);
}

const COLS: [string, number, 'l' | 'r'][] = [
  ['kernel', 27, 'l'],
  ['pass', 5, 'l'],
  ['n', 2, 'r'],
  ['disp', 4, 'r'],
  ['ms', 9, 'r'],
  ['GFLOP/s', 8, 'r'],
  ['GB/s', 7, 'r'],
  ['Gld/s', 7, 'r'],
  ['load ms', 8, 'r'],
  ['roof ms', 8, 'r'],
  ['%roof', 6, 'r'],
  ['%near', 6, 'r'],
  ['bound', 5, 'l'],
  ['launch%', 7, 'r'],
];

function line(cells: string[]): string {
  return cells.map((c, i) => (COLS[i]![2] === 'l' ? pad(c, COLS[i]![1]) : lpad(c, COLS[i]![1]))).join(' ');
}

export function ceilingLines(before: Ceilings, after: Ceilings, used: Ceilings): string[] {
  const row = (what: string, key: keyof Ceilings, digits: number, unit: string, note = '') =>
    `  ${pad(what, 26)} ${lpad(num(before[key], digits), 8)} ${lpad(num(after[key], digits), 8)} ${lpad(num(used[key], digits), 8)}  ${unit}${note}`;
  return [
    'adapter ceilings, measured before and after the kernels (each the best of several submits; "used" = the better of the two):',
    `  ${pad('', 26)} ${lpad('before', 8)} ${lpad('after', 8)} ${lpad('used', 8)}`,
    row('copyBufferToBuffer', 'copyGBps', 2, 'GB/s', ` (read + write, ${used.probeBytes >> 20} MiB)`),
    row('shader streaming copy', 'shaderCopyGBps', 2, 'GB/s', ' (vec4<f32>, read + write): bandwidth ceiling of the roofline'),
    row('vec4 FMA, registers only', 'fmaGFlops', 1, 'GFLOP/s', ' (8 independent vec4 accumulators): compute ceiling of the roofline'),
    row('vec4 load issue', 'loadGLoads', 3, 'G loads/s', ' (independent vec4<f32> loads, 64 KiB cache-resident buffer): load ceiling of the roofline'),
    row('  the same, as bytes', 'loadGBps', 2, 'GB/s', ' (16 bytes per load, reads only)'),
    row('empty dispatch in a pass', 'dispatchUs', 1, 'us'),
    row('submit round trip', 'roundTripUs', 1, 'us', ' (empty command buffer, submit + onSubmittedWorkDone)'),
  ];
}

export function headerLines(): string[] {
  const h = line(COLS.map((c) => c[0]));
  return [h, '-'.repeat(h.length)];
}

export function groupLine(group: string): string {
  return `[${group}]`;
}

export function rowLine(r: Row, first: boolean): string {
  return line([
    first ? r.name : '',
    r.pass,
    first ? String(r.count) : '',
    String(r.dispatches),
    ms(r.ms),
    num(r.gflops, 2),
    num(r.gbps, 2),
    num(r.gloads, 3) + (r.readBytesKnown ? '' : '*'),
    ms(r.loadMs),
    ms(r.roofMs),
    num(r.roofPct, 1),
    num(r.localRoofPct, 1),
    r.bound === 'compute' ? 'FMA' : r.bound === 'memory' ? 'mem' : 'load',
    num(r.launchPct, 1),
  ]);
}

/** With --split: one line per dispatch of a multi-kernel pass. */
export function kernelLines(r: Row): string[] {
  return (r.kernelMs ?? []).map((t, i) => `${' '.repeat(30)}- ${pad(r.kernels[i] ?? '?', 22)} ${lpad(ms(t), 9)} ms`);
}

/** Count-weighted sums: the time one forward and one backward of the whole network spends in each group. */
export function summaryLines(rows: Row[], batch: number): string[] {
  const groups = new Map<string, { fwd: number; bwd: number }>();
  for (const r of rows) {
    const g = groups.get(r.group) ?? { fwd: 0, bwd: 0 };
    if (r.pass === 'fwd') g.fwd += r.count * r.ms;
    else g.bwd += r.count * r.ms;
    groups.set(r.group, g);
  }
  let fwd = 0;
  let bwd = 0;
  const out = [`time per network pass by group (each shape's time x its layer count, batch ${batch}; only the cases run):`];
  out.push(`  ${pad('group', 11)} ${lpad('fwd ms', 9)} ${lpad('bwd ms', 9)}`);
  for (const [name, g] of groups) {
    out.push(`  ${pad(name, 11)} ${lpad(ms(g.fwd), 9)} ${lpad(ms(g.bwd), 9)}`);
    fwd += g.fwd;
    bwd += g.bwd;
  }
  out.push(`  ${pad('total', 11)} ${lpad(ms(fwd), 9)} ${lpad(ms(bwd), 9)}   (fwd + bwd ${ms(fwd + bwd)} ms; no optimizer, no data)`);
  return out;
}

/**
 * Per group, how many passes reach at least half of their roofline (issue 5's kernel target):
 * against the run's best ceilings, and against the probes taken beside each case.
 */
export function roofCountLines(rows: Row[]): string[] {
  const groups = new Map<string, { at: number; near: number; all: number }>();
  for (const r of rows) {
    const g = groups.get(r.group) ?? { at: 0, near: 0, all: 0 };
    g.all++;
    if (r.roofPct >= 50) g.at++;
    if (r.localRoofPct >= 50) g.near++;
    groups.set(r.group, g);
  }
  const fmt = (key: 'at' | 'near') => [...groups].map(([name, g]) => `${name} ${g[key]}/${g.all}`).join(', ');
  const range = (key: keyof RooflineCeilings, digits: number) => {
    const xs = rows.map((r) => r.localCeilings[key]);
    return `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;
  };
  return [
    'passes at 50 % of their roofline or more:',
    `  against the run's best ceilings (%roof): ${fmt('at')}`,
    `  against the probes beside each case (%near): ${fmt('near')}`,
    `  (the probes beside the cases read FMA ${range('fmaGFlops', 1)} GFLOP/s, shader copy ${range('shaderCopyGBps', 2)} GB/s, load issue ${range('loadGLoads', 3)} G loads/s)`,
  ];
}

export const LEGEND = [
  'ms: median over the timed submits of (one submit of R replays of the pass) / R, fenced with mg.sync().',
  'n: layers with this shape in one forward pass. disp: kernel dispatches in the pass.',
  'FLOPs = 2 x multiply-adds (conv, depthwise, GEMM; each gradient the same as the forward); memory-bound ops: nominal per element (JSON flopNote).',
  'bytes = minimal traffic: each tensor the pass reads read once, each it writes written once (f32).',
  'loads = minimal vec4 loads = bytes read / 16 (each input value loaded once, four to a load); Gld/s = loads / ms;',
  '  load ms = loads / load-issue ceiling. * = the case declares only total bytes (defineOp cost), so loads = total bytes / 16, an upper bound.',
  'roof ms = max(FLOPs / FMA ceiling, bytes / shader-copy bandwidth, loads / load-issue ceiling); %roof = roof ms / ms;',
  '%near: the same bound from the three probes run just before and just after this case (16 MiB copy, 3 submits each, the better reading):',
  '  the machine\'s speed drifts during a run, and this compares a kernel with the adapter as it was at that moment.',
  '  bound: which term is largest (FMA, mem or load).',
  'launch% = disp x empty-dispatch cost / ms: the share a pass would spend on launches alone.',
];

export function writeJson(path: string, meta: Meta, ceilings: { before: Ceilings; after: Ceilings; used: Ceilings }, rows: Row[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const json = {
    meta,
    method: {
      timing: 'warm-up, then R replays of the captured dispatches in one submit, timed from submit to mg.sync(); median of reps submits; per pass = submit time / R',
      flops: '2 x multiply-adds for conv, depthwise and GEMM passes; nominal per-element counts for memory-bound ops (flopNote)',
      bytes: 'minimal reads + writes: each tensor read once and written once, 4 bytes per f32',
      loads: 'minimal vec4 loads = readBytes / 16 (each input value loaded once, four to a load); where readBytesKnown is false (defineOp cases, which declare only total bytes) readBytes = bytes and loads is an upper bound',
      roofline: 'roofMs = max(fmaMs, memMs, loadMs) with fmaMs = flops / ceilings.used.fmaGFlops, memMs = bytes / ceilings.used.shaderCopyGBps, loadMs = loads / ceilings.used.loadGLoads (ms); bound names the largest term; roofPct = roofMs / ms * 100; ceilings.used is the better of the probes before and after the kernels; localRoofPct is the same bound from the probes run just before and after the case (localCeilings: the better of the two readings, 16 MiB copy, 3 submits each)',
    },
    ceilings,
    rows,
  };
  writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
}
