/**
 * `mg.profile(fn)`: runs `fn` with every dispatch timed on the GPU and returns a per-kernel table
 * (calls, GPU time, bytes moved, FLOPs where the kernel declares a cost, % of the measured
 * roofline) and a Chrome trace (Perfetto / chrome://tracing). See recorders.ts for how dispatches
 * are timed with and without `timestamp-query`.
 */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { TimestampRecorder, WaitRecorder, type DispatchSample, type Recorder } from './recorders.js';
import { formatProfileTable, kernelRows, type KernelProfileRow } from './report.js';
import { measureRoofline, type Roofline } from './roofline.js';
import { chromeTrace, type ChromeTrace } from './trace.js';

/** Options of {@link profile}. */
export interface ProfileOptions {
  /** `auto` (default): GPU timestamps where the adapter has `timestamp-query`, else `wait`. */
  mode?: 'auto' | 'timestamp-query' | 'wait';
  /** Measure the adapter's ceilings for "% of roofline" (default true; cached per device). */
  roofline?: boolean;
  /** A title for the table and the trace. */
  label?: string;
}

/** What {@link profile} returns. */
export interface ProfileReport<T = unknown> {
  /** What `fn` returned (awaited). */
  result: T;
  label: string;
  /** How dispatches were timed. */
  mode: 'timestamp-query' | 'wait';
  /** Adapter, for the record. */
  adapter: string;
  /** JavaScript time inside `fn` (recording the work), ms. */
  cpuMs: number;
  /** From the call until the GPU finished `fn`'s work (before any wait-mode re-runs), ms. */
  wallMs: number;
  /** Sum of the dispatches' GPU times, ms. */
  gpuMs: number;
  /** Every dispatch, in order. */
  dispatches: DispatchSample[];
  /** Per kernel, most GPU time first. */
  kernels: KernelProfileRow[];
  roofline: Roofline | null;
  /** The table as text. */
  table(options?: { top?: number }): string;
  /** The Chrome trace-event JSON (write it with JSON.stringify; open in ui.perfetto.dev or chrome://tracing). */
  trace(): ChromeTrace;
}

let active = false;

/** Runs `fn` (sync or async) and profiles every GPU dispatch it issues. One profile at a time. */
export async function profile<T>(fn: () => T | Promise<T>, options: ProfileOptions = {}): Promise<ProfileReport<Awaited<T>>> {
  if (active) throw new MobilegradError('profile: a profile is already running (profiles do not nest)');
  const dev = getDevice();
  const hasTimestamps = dev.has('timestamp-query');
  const mode = options.mode === 'wait' || (options.mode !== 'timestamp-query' && !hasTimestamps) ? 'wait' : 'timestamp-query';
  if (mode === 'timestamp-query' && !hasTimestamps) throw new MobilegradError("profile: this adapter has no 'timestamp-query' feature; use mode 'wait' (or 'auto')");
  const roofline = options.roofline === false ? null : await measureRoofline();
  await dev.sync();
  const recorder: Recorder = mode === 'timestamp-query' ? new TimestampRecorder(dev) : new WaitRecorder(dev);
  active = true;
  dev.dispatcher.observer = recorder;
  const t0 = performance.now();
  let result: Awaited<T>;
  let cpuMs: number;
  try {
    const r = fn();
    cpuMs = performance.now() - t0;
    result = (r instanceof Promise ? await r : r) as Awaited<T>;
    if (r instanceof Promise) cpuMs = performance.now() - t0;
  } finally {
    dev.dispatcher.observer = null;
    active = false;
  }
  await dev.sync();
  const wallMs = performance.now() - t0;
  const dispatches = await recorder.finish();
  const gpuMs = dispatches.reduce((s, d) => s + d.durationNs, 0) / 1e6;
  const kernels = kernelRows(dispatches, roofline);
  const a = dev.report.adapter;
  const report: ProfileReport<Awaited<T>> = {
    result,
    label: options.label ?? 'profile',
    mode,
    adapter: [a.description || a.device, a.architecture, a.vendor].filter(Boolean).join(', '),
    cpuMs,
    wallMs,
    gpuMs,
    dispatches,
    kernels,
    roofline,
    table: (o = {}) => formatProfileTable(report, o.top),
    trace: () => chromeTrace(report),
  };
  return report;
}
