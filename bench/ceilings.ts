/**
 * The adapter's ceilings, measured with raw WebGPU in the same run as the kernels: what a kernel
 * on this device can at best reach. Each probe records R operations into one submit, waits for the
 * queue, and keeps the best of a few repetitions (a ceiling is an upper bound, and on a CPU adapter
 * shared with other processes the slower repetitions measure the neighbours, not the device).
 * Waits go through gentleWait, as the engine's do: Dawn's polling would otherwise spin a core
 * that a CPU adapter needs (src/device/gpu-wait.ts).
 */

import { gentleWait } from '../src/device/gpu-wait.js';

/** Ceilings of one adapter, as measured. */
export interface Ceilings {
  /** copyBufferToBuffer, bytes read + written per second. */
  copyGBps: number;
  /** A compute shader copying vec4<f32> from one storage buffer to another (read + write). */
  shaderCopyGBps: number;
  /** Register-only vec4<f32> FMA loop with 8 independent accumulators (2 FLOPs per FMA lane). */
  fmaGFlops: number;
  /**
   * Load issue: independent vec4<f32> loads per second (in 1e9) from a small, cache-resident storage
   * buffer, at addresses that differ per lane and per iteration. On lavapipe every buffer load is a
   * per-lane, bounds-checked scalar load per component, so this can bind before bandwidth does.
   */
  loadGLoads: number;
  /** loadGLoads x 16 bytes: the same rate as bytes loaded per second (reads only, from cache). */
  loadGBps: number;
  /** One empty dispatch (setPipeline + dispatchWorkgroups(1)) inside an open compute pass, microseconds. */
  dispatchUs: number;
  /** Submitting an empty command buffer and awaiting onSubmittedWorkDone, microseconds (fastest of 20-50). */
  roundTripUs: number;
  /** Buffer size the bandwidth probes streamed. */
  probeBytes: number;
}

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;

async function timed(device: GPUDevice, reps: number, encode: (e: GPUCommandEncoder) => void): Promise<number> {
  // Warm-up (pipeline first use, page faults on fresh buffers).
  {
    const e = device.createCommandEncoder();
    encode(e);
    device.queue.submit([e.finish()]);
    await gentleWait(() => device.queue.onSubmittedWorkDone());
  }
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const e = device.createCommandEncoder();
    encode(e);
    const cmd = e.finish();
    const t0 = performance.now();
    device.queue.submit([cmd]);
    await gentleWait(() => device.queue.onSubmittedWorkDone());
    times.push((performance.now() - t0) / 1000);
  }
  return Math.min(...times);
}

function pipeline(device: GPUDevice, code: string, label: string): GPUComputePipeline {
  const module = device.createShaderModule({ code, label });
  return device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
}

const COPY_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}`;

/** ITER iterations of 8 independent vec4 FMAs: 8 * 4 * 2 FLOPs each, and no memory traffic. */
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

/**
 * Load issue: each invocation runs LOAD_ITER iterations of 8 independent vec4 loads from a 64 KiB
 * buffer (LOAD_VEC4 entries, cache-resident, so this is issue rate, not DRAM bandwidth). The base
 * address differs per lane and moves every iteration, so no load can be hoisted or merged across
 * lanes; the 8 addresses of one iteration are 512 vec4s apart. 4 accumulators and one store per
 * invocation keep every load live.
 */
const LOAD_ITER = 512;
const LOAD_VEC4 = 4096;
const LOAD_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  const mask = ${LOAD_VEC4 - 1}u;
  var p = (gid.x * 97u) & mask;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  for (var i = 0u; i < ${LOAD_ITER}u; i++) {
    a0 += src[p] + src[(p + 512u) & mask];
    a1 += src[(p + 1024u) & mask] + src[(p + 1536u) & mask];
    a2 += src[(p + 2048u) & mask] + src[(p + 2560u) & mask];
    a3 += src[(p + 3072u) & mask] + src[(p + 3584u) & mask];
    p = (p + 61u) & mask;
  }
  out[gid.x] = (a0 + a1) + (a2 + a3);
}`;

const EMPTY_WGSL = /* wgsl */ `@compute @workgroup_size(1) fn main() {}`;

/** The three roofline probes (shader copy, FMA, load issue): pipelines and buffers made once, run as often as needed. */
export class RooflineProbes {
  private readonly src: GPUBuffer;
  private readonly dst: GPUBuffer;
  private readonly fmaOut: GPUBuffer;
  private readonly loadSrc: GPUBuffer;
  private readonly loadOut: GPUBuffer;
  private readonly copyPipe: GPUComputePipeline;
  private readonly copyBg: GPUBindGroup;
  private readonly fmaPipe: GPUComputePipeline;
  private readonly fmaBg: GPUBindGroup;
  private readonly loadPipe: GPUComputePipeline;
  private readonly loadBg: GPUBindGroup;
  private readonly fmaGroups: number;
  private readonly loadGroups: number;

  /** `quick`: 16 MiB copies and a quarter of the FMA and load work (about 0.2 s for all three at 3 repetitions on lavapipe). */
  constructor(private readonly device: GPUDevice, quick: boolean, readonly bytes = (quick ? 16 : 64) << 20) {
    this.src = device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST, label: 'ceiling src' });
    this.dst = device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST, label: 'ceiling dst' });
    const fill = new Float32Array(bytes / 4);
    for (let i = 0; i < fill.length; i++) fill[i] = (i % 1024) * 0.5;
    device.queue.writeBuffer(this.src, 0, fill);
    device.queue.writeBuffer(this.dst, 0, fill);
    this.copyPipe = pipeline(device, COPY_WGSL, 'ceiling shader copy');
    this.copyBg = device.createBindGroup({
      layout: this.copyPipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.src } }, { binding: 1, resource: { buffer: this.dst } }],
    });
    this.fmaPipe = pipeline(device, FMA_WGSL, 'ceiling fma');
    this.fmaGroups = quick ? 128 : 512;
    this.fmaOut = device.createBuffer({ size: this.fmaGroups * 64 * 16, usage: STORAGE, label: 'ceiling fma out' });
    this.fmaBg = device.createBindGroup({ layout: this.fmaPipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: this.fmaOut } }] });
    this.loadPipe = pipeline(device, LOAD_WGSL, 'ceiling load issue');
    this.loadGroups = quick ? 32 : 64;
    this.loadSrc = device.createBuffer({ size: LOAD_VEC4 * 16, usage: STORAGE | COPY_DST, label: 'ceiling load src' });
    device.queue.writeBuffer(this.loadSrc, 0, fill, 0, LOAD_VEC4 * 4);
    this.loadOut = device.createBuffer({ size: this.loadGroups * 64 * 16, usage: STORAGE, label: 'ceiling load out' });
    this.loadBg = device.createBindGroup({
      layout: this.loadPipe.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: this.loadSrc } }, { binding: 1, resource: { buffer: this.loadOut } }],
    });
  }

  /** copyBufferToBuffer, GB/s (read + write). */
  async copy(reps: number): Promise<number> {
    const t = await timed(this.device, reps, (e) => {
      for (let i = 0; i < COPIES; i++) e.copyBufferToBuffer(this.src, 0, this.dst, 0, this.bytes);
    });
    return (2 * this.bytes * COPIES) / t / 1e9;
  }

  /** Streaming vec4 copy in a shader, GB/s (read + write). */
  async shaderCopy(reps: number): Promise<number> {
    const groups = this.bytes / 16 / 256;
    const gx = Math.min(groups, 65535);
    const gy = Math.ceil(groups / gx);
    const t = await timed(this.device, reps, (e) => {
      const p = e.beginComputePass();
      p.setPipeline(this.copyPipe);
      p.setBindGroup(0, this.copyBg);
      for (let i = 0; i < COPIES; i++) p.dispatchWorkgroups(gx, gy);
      p.end();
    });
    return (2 * this.bytes * COPIES) / t / 1e9;
  }

  /** FMA throughput, registers only, GFLOP/s. */
  async fma(reps: number): Promise<number> {
    const t = await this.oneDispatch(reps, this.fmaPipe, this.fmaBg, this.fmaGroups);
    return (this.fmaGroups * 64 * FMA_ITER * 8 * 4 * 2) / t / 1e9;
  }

  /** Load issue, 1e9 vec4 loads per second. */
  async loadIssue(reps: number): Promise<number> {
    const t = await this.oneDispatch(reps, this.loadPipe, this.loadBg, this.loadGroups);
    return (this.loadGroups * 64 * LOAD_ITER * 8) / t / 1e9;
  }

  /** Seconds of one dispatch of `groups` workgroups (best of `reps` submits). */
  private oneDispatch(reps: number, pipe: GPUComputePipeline, bg: GPUBindGroup, groups: number): Promise<number> {
    return timed(this.device, reps, (e) => {
      const p = e.beginComputePass();
      p.setPipeline(pipe);
      p.setBindGroup(0, bg);
      p.dispatchWorkgroups(groups);
      p.end();
    });
  }

  /** The three roofline terms only, as measured now. */
  async roofline(reps: number): Promise<RooflineCeilings> {
    return { shaderCopyGBps: await this.shaderCopy(reps), fmaGFlops: await this.fma(reps), loadGLoads: await this.loadIssue(reps) };
  }

  destroy(): void {
    for (const b of [this.src, this.dst, this.fmaOut, this.loadSrc, this.loadOut]) b.destroy();
  }
}

/** The ceilings a roofline bound is computed from. */
export type RooflineCeilings = Pick<Ceilings, 'shaderCopyGBps' | 'fmaGFlops' | 'loadGLoads'>;

/** copyBufferToBuffer copies per timed submit (and shader copies per pass). */
const COPIES = 4;

/** Measures every ceiling; `quick` streams smaller buffers and repeats less. */
export async function measureCeilings(device: GPUDevice, quick: boolean): Promise<Ceilings> {
  const reps = quick ? 4 : 7;
  device.pushErrorScope('validation');
  const probes = new RooflineProbes(device, quick);
  await gentleWait(() => device.queue.onSubmittedWorkDone());
  const copyGBps = await probes.copy(reps);
  const shaderCopyGBps = await probes.shaderCopy(reps);
  const fmaGFlops = await probes.fma(reps);
  const loadGLoads = await probes.loadIssue(reps);
  const loadGBps = loadGLoads * 16;

  // Empty dispatches: N in one pass, minus a pass with one, over N - 1.
  const emptyPipe = pipeline(device, EMPTY_WGSL, 'ceiling empty');
  const N = quick ? 500 : 2000;
  const emptyPass = (count: number) => (e: GPUCommandEncoder) => {
    const p = e.beginComputePass();
    for (let i = 0; i < count; i++) {
      p.setPipeline(emptyPipe);
      p.dispatchWorkgroups(1);
    }
    p.end();
  };
  const tMany = await timed(device, reps, emptyPass(N));
  const tOne = await timed(device, reps, emptyPass(1));
  const dispatchUs = ((tMany - tOne) / (N - 1)) * 1e6;

  // Submit round trip: an empty command buffer, submitted and awaited.
  const trips: number[] = [];
  for (let i = 0; i < (quick ? 20 : 50); i++) {
    const cmd = device.createCommandEncoder().finish();
    const t0 = performance.now();
    device.queue.submit([cmd]);
    await gentleWait(() => device.queue.onSubmittedWorkDone());
    trips.push((performance.now() - t0) * 1000);
  }
  const roundTripUs = Math.min(...trips);

  const err = await device.popErrorScope();
  probes.destroy();
  if (err) throw new Error(`ceiling probes failed: ${err.message}`);
  return { copyGBps, shaderCopyGBps, fmaGFlops, loadGLoads, loadGBps, dispatchUs, roundTripUs, probeBytes: probes.bytes };
}

/** The better of two measurements of the ceilings: higher throughputs, lower costs. */
export function bestOf(a: Ceilings, b: Ceilings): Ceilings {
  return {
    copyGBps: Math.max(a.copyGBps, b.copyGBps),
    shaderCopyGBps: Math.max(a.shaderCopyGBps, b.shaderCopyGBps),
    fmaGFlops: Math.max(a.fmaGFlops, b.fmaGFlops),
    loadGLoads: Math.max(a.loadGLoads, b.loadGLoads),
    loadGBps: Math.max(a.loadGBps, b.loadGBps),
    dispatchUs: Math.min(a.dispatchUs, b.dispatchUs),
    roundTripUs: Math.min(a.roundTripUs, b.roundTripUs),
    probeBytes: a.probeBytes,
  };
}
