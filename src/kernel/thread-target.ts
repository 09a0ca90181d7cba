/**
 * How many invocations a kernel's work split aims for. Reductions and elementwise passes split
 * their work into about N threads (partial sums, row blocks); a GPU wants tens of thousands in
 * flight, a CPU adapter (lavapipe, SwiftShader: a few threads running SIMD loops over workgroups)
 * far fewer, and every extra split there costs partial sums and bookkeeping for nothing.
 */
import { getDevice } from '../device/device.js';

let cpuDivisor: number | null = null;

/** @internal Sets how much smaller targets are on CPU adapters (null: the default 8); returns the previous override. For benchmarks. */
export function setCpuThreadDivisor(d: number | null): number | null {
  const old = cpuDivisor;
  cpuDivisor = d;
  return old;
}

/** True on CPU adapters (Dawn marks them as fallback adapters; Mesa's lavapipe says `software`). */
export function isCpuAdapter(): boolean {
  const a = getDevice().report.adapter;
  return a.isFallbackAdapter || a.architecture === 'software';
}

/** `gpuThreads` on a GPU; on a CPU adapter that divided by 8 (at least 256). */
export function threadTarget(gpuThreads: number): number {
  if (!isCpuAdapter()) return gpuThreads;
  return Math.max(256, Math.round(gpuThreads / (cpuDivisor ?? 8)));
}

/** The adapter's one subgroup size when it has `subgroups` and reports a fixed size; else null. */
export function subgroupSize(): number | null {
  const dev = getDevice();
  if (!dev.has('subgroups')) return null;
  const info = dev.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const lo = info.subgroupMinSize;
  const hi = info.subgroupMaxSize;
  if (!lo || lo !== hi || ![4, 8, 16, 32, 64].includes(lo)) return null;
  return lo;
}
