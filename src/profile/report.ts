/** The profiler's per-kernel table: aggregation of dispatch samples and its text form. */
import type { DispatchSample } from './recorders.js';
import type { Roofline } from './roofline.js';

/** One kernel's line of the profile. */
export interface KernelProfileRow {
  kernel: string;
  calls: number;
  /** Total GPU time, ms. */
  gpuMs: number;
  /** Share of all profiled GPU time, %. */
  sharePct: number;
  /** Mean GPU time per call, us. */
  meanUs: number;
  /** FLOPs of all calls; null when the kernel declares no cost. */
  flops: number | null;
  /** Bytes moved by all calls (each tensor read or written once); null when undeclared. */
  bytes: number | null;
  gflops: number | null;
  gbps: number | null;
  /** Time at the roofline over measured time, %; null without costs or roofline. */
  rooflinePct: number | null;
  /** Which ceiling binds at this kernel's arithmetic intensity. */
  bound: 'compute' | 'memory' | null;
}

/** Groups samples by kernel, most GPU time first. */
export function kernelRows(samples: readonly DispatchSample[], roof: Roofline | null): KernelProfileRow[] {
  const total = samples.reduce((s, d) => s + d.durationNs, 0);
  const by = new Map<string, { calls: number; ns: number; flops: number; bytes: number; costed: boolean }>();
  for (const s of samples) {
    let e = by.get(s.kernel.name);
    if (!e) by.set(s.kernel.name, (e = { calls: 0, ns: 0, flops: 0, bytes: 0, costed: true }));
    e.calls++;
    e.ns += s.durationNs;
    const c = s.kernel.spec.cost?.(s.uniforms, s.constants);
    if (!c || (c.flops === undefined && c.bytes === undefined)) e.costed = false;
    else {
      e.flops += c.flops ?? 0;
      e.bytes += c.bytes ?? 0;
    }
  }
  const rows: KernelProfileRow[] = [];
  for (const [kernel, e] of by) {
    const sec = e.ns / 1e9;
    const flops = e.costed ? e.flops : null;
    const bytes = e.costed ? e.bytes : null;
    let rooflinePct: number | null = null;
    let bound: KernelProfileRow['bound'] = null;
    if (roof && flops !== null && bytes !== null && sec > 0) {
      const tf = flops / (roof.gflops * 1e9);
      const tb = bytes / (roof.gbps * 1e9);
      rooflinePct = (Math.max(tf, tb) / sec) * 100;
      bound = tf >= tb ? 'compute' : 'memory';
    }
    rows.push({
      kernel, calls: e.calls, gpuMs: e.ns / 1e6, sharePct: total > 0 ? (100 * e.ns) / total : 0, meanUs: e.ns / e.calls / 1e3,
      flops, bytes, gflops: flops !== null && sec > 0 ? flops / sec / 1e9 : null, gbps: bytes !== null && sec > 0 ? bytes / sec / 1e9 : null,
      rooflinePct, bound,
    });
  }
  return rows.sort((a, b) => b.gpuMs - a.gpuMs);
}

interface TableSource {
  label: string;
  mode: string;
  adapter: string;
  cpuMs: number;
  wallMs: number;
  gpuMs: number;
  dispatches: readonly unknown[];
  kernels: readonly KernelProfileRow[];
  roofline: Roofline | null;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const num = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));

/** The profile as a text table (the `top` kernels by GPU time, the rest summed). */
export function formatProfileTable(r: TableSource, top = 40): string {
  const lines: string[] = [];
  lines.push(`${r.label}: ${r.dispatches.length} dispatches, GPU ${r.gpuMs.toFixed(1)} ms (sum of kernels, ${r.mode}); CPU recording ${r.cpuMs.toFixed(1)} ms; wall ${r.wallMs.toFixed(1)} ms`);
  lines.push(`adapter: ${r.adapter}`);
  if (r.roofline) lines.push(`roofline: ${r.roofline.gflops.toFixed(1)} GFLOP/s (f32 FMA), ${r.roofline.gbps.toFixed(2)} GB/s (streaming copy), measured now`);
  lines.push('');
  const kw = Math.max(24, ...r.kernels.slice(0, top).map((k) => k.kernel.length)) + 1;
  const head = pad('kernel', kw) + lpad('calls', 6) + lpad('GPU ms', 10) + lpad('share', 7) + lpad('mean us', 10) + lpad('GFLOP', 9) + lpad('GFLOP/s', 9) + lpad('MB', 9) + lpad('GB/s', 7) + lpad('roof %', 8) + '  bound';
  lines.push(head);
  lines.push('-'.repeat(head.length));
  const row = (k: KernelProfileRow) =>
    pad(k.kernel, kw) + lpad(String(k.calls), 6) + lpad(k.gpuMs.toFixed(2), 10) + lpad(`${k.sharePct.toFixed(1)}%`, 7) + lpad(k.meanUs.toFixed(1), 10) +
    lpad(num(k.flops === null ? null : k.flops / 1e9, 3), 9) + lpad(num(k.gflops, 2), 9) + lpad(num(k.bytes === null ? null : k.bytes / 1e6, 1), 9) +
    lpad(num(k.gbps, 2), 7) + lpad(k.rooflinePct === null ? '-' : `${k.rooflinePct.toFixed(1)}`, 8) + '  ' + (k.bound ?? '-');
  for (const k of r.kernels.slice(0, top)) lines.push(row(k));
  const rest = r.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, k) => s + k.gpuMs, 0);
    lines.push(pad(`(${rest.length} more kernels)`, kw) + lpad(String(rest.reduce((s, k) => s + k.calls, 0)), 6) + lpad(ms.toFixed(2), 10));
  }
  lines.push('-'.repeat(head.length));
  const costed = r.kernels.filter((k) => k.flops !== null);
  const flops = costed.reduce((s, k) => s + k.flops!, 0);
  const costedMs = costed.reduce((s, k) => s + k.gpuMs, 0);
  lines.push(pad('total', kw) + lpad(String(r.dispatches.length), 6) + lpad(r.gpuMs.toFixed(2), 10) + lpad('100%', 7) + lpad('', 10) + lpad((flops / 1e9).toFixed(3), 9) + lpad(costedMs > 0 ? (flops / costedMs / 1e6).toFixed(2) : '-', 9));
  const uncosted = r.kernels.filter((k) => k.flops === null);
  if (uncosted.length) lines.push(`no declared cost (KernelSpec.cost) for: ${uncosted.map((k) => k.kernel).join(', ')}`);
  return lines.join('\n');
}
