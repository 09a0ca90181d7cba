/**
 * The profile as a Chrome trace (the JSON trace-event format that ui.perfetto.dev and
 * chrome://tracing open): one track of GPU dispatches on the GPU's clock, one of the moments
 * JavaScript recorded them on the CPU's clock (the two clocks are not aligned).
 */
import type { DispatchSample } from './recorders.js';

/** A trace-event document. */
export interface ChromeTrace {
  traceEvents: Record<string, unknown>[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number>;
}

interface TraceSource {
  label: string;
  mode: string;
  adapter: string;
  gpuMs: number;
  wallMs: number;
  dispatches: readonly DispatchSample[];
}

/** Builds the trace-event JSON of a profile. */
export function chromeTrace(r: TraceSource): ChromeTrace {
  const ev: Record<string, unknown>[] = [
    { ph: 'M', pid: 1, name: 'process_name', args: { name: `GPU (${r.adapter})` } },
    { ph: 'M', pid: 1, tid: 1, name: 'thread_name', args: { name: `dispatches (${r.mode})` } },
    { ph: 'M', pid: 2, name: 'process_name', args: { name: 'CPU (JavaScript)' } },
    { ph: 'M', pid: 2, tid: 1, name: 'thread_name', args: { name: 'recording' } },
  ];
  r.dispatches.forEach((d, i) => {
    const c = d.kernel.spec.cost?.(d.uniforms, d.constants);
    ev.push({
      name: d.kernel.name, cat: 'kernel', ph: 'X', pid: 1, tid: 1, ts: d.startNs / 1e3, dur: d.durationNs / 1e3,
      args: { index: i, call: d.describe, grid: d.grid.join('x'), ...(c?.flops !== undefined ? { flops: c.flops } : {}), ...(c?.bytes !== undefined ? { bytes: c.bytes } : {}) },
    });
    ev.push({ name: d.kernel.name, cat: 'record', ph: 'i', s: 't', pid: 2, tid: 1, ts: d.recordedMs * 1e3, args: { index: i } });
  });
  return { traceEvents: ev, displayTimeUnit: 'ms', otherData: { label: r.label, mode: r.mode, adapter: r.adapter, gpuMs: r.gpuMs, wallMs: r.wallMs } };
}

/** A few lines describing a trace: events, time span, busiest kernels (what a viewer would show first). */
export function traceSummary(trace: ChromeTrace, top = 5): string {
  const spans = trace.traceEvents.filter((e) => e.ph === 'X') as { name: string; ts: number; dur: number }[];
  if (!spans.length) return 'empty trace';
  const start = Math.min(...spans.map((e) => e.ts));
  const end = Math.max(...spans.map((e) => e.ts + e.dur));
  const busy = spans.reduce((s, e) => s + e.dur, 0);
  const by = new Map<string, number>();
  for (const e of spans) by.set(e.name, (by.get(e.name) ?? 0) + e.dur);
  const lines = [
    `${trace.traceEvents.length} events: ${spans.length} GPU dispatch spans over ${((end - start) / 1e3).toFixed(1)} ms, busy ${((busy / 1e3)).toFixed(1)} ms (${((100 * busy) / Math.max(1e-9, end - start)).toFixed(0)} %)`,
    ...[...by].sort((a, b) => b[1] - a[1]).slice(0, top).map(([n, us]) => `  ${n}: ${(us / 1e3).toFixed(1)} ms`),
  ];
  return lines.join('\n');
}
