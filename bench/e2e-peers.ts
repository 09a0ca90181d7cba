/**
 * The peers of the end-to-end benchmark, run as child processes in the same run, one at a time
 * (the machine's cores are shared): PyTorch on the CPU (bench/torch_e2e.py with Debian's
 * python3-torch when installed) and, behind --tfjs, TensorFlow.js with its WebGPU backend on the
 * same adapter (bench/tfjs_e2e.mjs, when @tensorflow/tfjs and @tensorflow/tfjs-backend-webgpu can
 * be resolved). A missing peer is reported, never an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/** One peer workload's numbers. */
export interface PeerRow {
  image_size: number;
  batch_size: number;
  ms_per_step: number;
  images_per_second: number;
  best_ms_per_step?: number;
  samples_ms?: number[];
  note?: string;
}

/** A peer's results, or why there are none. */
export interface PeerResult {
  available: boolean;
  reason?: string;
  version?: string;
  rows: Record<string, PeerRow>;
  seconds: number;
}

const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];

function lastJsonLine(stdout: string): Record<string, unknown> | null {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      // progress or warnings: keep looking
    }
  }
  return null;
}

/** Runs bench/torch_e2e.py; "PyTorch not installed" when python3 or torch is missing. */
export function runTorch(root: string, o: { folder: string; threads: number; steps: number; folderSteps: number; only?: string[] }): PeerResult {
  const t0 = performance.now();
  const script = join(root, 'bench/torch_e2e.py');
  const python = PYTHON_CANDIDATES.find((p) => !p.startsWith('/') || existsSync(p)) ?? 'python3';
  const args = [script, '--folder', o.folder, '--threads', String(o.threads), '--steps', String(o.steps), '--folder-steps', String(o.folderSteps)];
  if (o.only) args.push('--only', o.only.join(','));
  const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 30 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) return { available: false, reason: `PyTorch not installed (no python3: ${r.error.message})`, rows: {}, seconds };
  const out = lastJsonLine(r.stdout ?? '');
  if (!out) return { available: false, reason: `PyTorch run failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}`, rows: {}, seconds };
  if (!out.available) return { available: false, reason: String(out.reason ?? 'PyTorch not installed'), rows: {}, seconds };
  const rows: Record<string, PeerRow> = {};
  for (const k of ['train224', 'train64', 'infer1', 'infer32']) if (out[k]) rows[k] = out[k] as PeerRow;
  return { available: true, version: `torch ${out.torch}, torchvision ${out.torchvision}, ${out.threads} threads`, rows, seconds };
}

/** Where @tensorflow/tfjs resolves from: `dir` (a folder holding node_modules), else the project. */
export function findTfjs(root: string, dir?: string): string | null {
  for (const base of [dir, root].filter((d): d is string => Boolean(d))) {
    try {
      const req = createRequire(join(resolve(base), 'package.json'));
      req.resolve('@tensorflow/tfjs');
      req.resolve('@tensorflow/tfjs-backend-webgpu');
      return resolve(base);
    } catch {
      // not there
    }
  }
  return null;
}

/** Runs bench/tfjs_e2e.mjs on the same adapter (slow: minutes at 224 px). */
export function runTfjs(root: string, o: { dir?: string; steps: number; warmup: number; only?: string[] }): PeerResult {
  const t0 = performance.now();
  const base = findTfjs(root, o.dir);
  if (!base) {
    return {
      available: false,
      reason: 'TensorFlow.js not installed: `npm install --no-save @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu` (or pass --tfjs-dir DIR holding them)',
      rows: {},
      seconds: 0,
    };
  }
  const args = [join(root, 'bench/tfjs_e2e.mjs'), '--modules', base, '--steps', String(o.steps), '--warmup', String(o.warmup)];
  if (o.only) args.push('--only', o.only.join(','));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 60 * 60_000 });
  const seconds = (performance.now() - t0) / 1000;
  const out = lastJsonLine(r.stdout ?? '');
  if (!out) return { available: false, reason: `TensorFlow.js run failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`, rows: {}, seconds };
  const rows: Record<string, PeerRow> = {};
  for (const k of ['train224', 'train64', 'infer1', 'infer32']) if (out[k]) rows[k] = out[k] as PeerRow;
  return { available: true, version: `tfjs ${out.version}, backend ${out.backend}`, rows, seconds };
}
