/**
 * How the profiler times each dispatch, behind the dispatcher's observer hook.
 * - `TimestampRecorder` (adapters with `timestamp-query`): every dispatch gets a compute pass of its
 *   own with GPU timestamps written at its start and end; read back once at the end.
 * - `WaitRecorder` (adapters without): dispatches run as usual and are remembered; afterwards each
 *   is run again alone, submitted and waited for, with the buffers it writes saved before and
 *   restored after, so the re-runs change nothing. Its time is the wait minus an empty round trip,
 *   divided by the repetitions in that submit (short kernels repeat up to 64 times to rise above
 *   the round trip's jitter).
 */
import { gentleWait } from '../device/gpu-wait.js';
import type { Device } from '../device/device.js';
import type { PooledBuffer } from '../device/buffer-pool.js';
import type { DispatchObserver } from '../device/dispatcher.js';
import type { Grid, Kernel, Uniforms } from '../kernel/define-kernel.js';

/** One profiled launch. */
export interface DispatchSample {
  kernel: Kernel;
  /** The kernel and its tensors' shapes, as error messages show them. */
  describe: string;
  uniforms: Uniforms;
  /** The WGSL `override` constants it ran with. */
  constants: Readonly<Record<string, number>>;
  grid: Grid;
  /** When JavaScript recorded it, ms since the profile started. */
  recordedMs: number;
  /** GPU start, ns since the first profiled dispatch started (timestamps) or a running sum (wait mode). */
  startNs: number;
  /** GPU duration, ns. */
  durationNs: number;
}

const PAIRS_PER_SET = 2048; // 4096 queries: WebGPU's largest query set
const USAGE = { MAP_READ: 0x01, COPY_SRC: 0x04, COPY_DST: 0x08, QUERY_RESOLVE: 0x200 };

export interface Recorder extends DispatchObserver {
  /** Waits for the GPU and fills in every sample's times. */
  finish(): Promise<DispatchSample[]>;
}

interface Pending {
  kernel: Kernel;
  describe: () => string;
  uniforms: Uniforms;
  grid: Grid;
  recordedMs: number;
  buffers: PooledBuffer[];
  constants?: Record<string, number>;
}

function remember(t0: number, kernel: Kernel, buffers: PooledBuffer[], uniforms: Uniforms, grid: Grid, describe: () => string, constants?: Record<string, number>): Pending {
  return { kernel, describe, uniforms: { ...uniforms }, grid: [...grid] as Grid, recordedMs: performance.now() - t0, buffers: [...buffers], constants };
}

export class TimestampRecorder implements Recorder {
  private sets: GPUQuerySet[] = [];
  private pending: Pending[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly dev: Device) {}

  onDispatch(kernel: Kernel, buffers: PooledBuffer[], uniforms: Uniforms, grid: Grid, describe: () => string, constants?: Record<string, number>): GPUComputePassTimestampWrites {
    const i = this.pending.length;
    this.pending.push(remember(this.t0, kernel, buffers, uniforms, grid, describe, constants));
    const set = Math.floor(i / PAIRS_PER_SET);
    if (set === this.sets.length) this.sets.push(this.dev.device.createQuerySet({ type: 'timestamp', count: 2 * PAIRS_PER_SET, label: 'profiler' }));
    const k = (i % PAIRS_PER_SET) * 2;
    return { querySet: this.sets[set]!, beginningOfPassWriteIndex: k, endOfPassWriteIndex: k + 1 };
  }

  async finish(): Promise<DispatchSample[]> {
    const n = this.pending.length;
    await this.dev.sync();
    if (n === 0) return [];
    const device = this.dev.device;
    const bytes = this.sets.length * PAIRS_PER_SET * 2 * 8;
    const resolve = device.createBuffer({ size: bytes, usage: USAGE.QUERY_RESOLVE | USAGE.COPY_SRC, label: 'profiler resolve' });
    const read = device.createBuffer({ size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST, label: 'profiler read' });
    const enc = device.createCommandEncoder();
    this.sets.forEach((s, i) => {
      const used = Math.min(PAIRS_PER_SET, n - i * PAIRS_PER_SET) * 2;
      enc.resolveQuerySet(s, 0, used, resolve, i * PAIRS_PER_SET * 16);
    });
    enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
    device.queue.submit([enc.finish()]);
    await gentleWait(() => read.mapAsync(1));
    const ts = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    for (const b of [resolve, read]) b.destroy();
    for (const s of this.sets) s.destroy();
    const origin = ts[0]!;
    return this.pending.map((p, i) => {
      const begin = ts[2 * i]!;
      const end = ts[2 * i + 1]!;
      return sample(p, Number(begin - origin), end > begin ? Number(end - begin) : 0);
    });
  }
}

export class WaitRecorder implements Recorder {
  private pending: Pending[] = [];
  private readonly t0 = performance.now();

  constructor(private readonly dev: Device) {}

  onDispatch(kernel: Kernel, buffers: PooledBuffer[], uniforms: Uniforms, grid: Grid, describe: () => string, constants?: Record<string, number>): undefined {
    this.pending.push(remember(this.t0, kernel, buffers, uniforms, grid, describe, constants));
    return undefined;
  }

  async finish(): Promise<DispatchSample[]> {
    const dev = this.dev;
    const d = dev.dispatcher;
    await dev.sync();
    const roundTrip = await emptyRoundTripNs(dev);
    const out: DispatchSample[] = [];
    let clock = 0;
    for (const p of this.pending) {
      const written = p.kernel.bindings
        .filter((b) => b.kind !== 'uniform')
        .map((b, i) => [b, p.buffers[i]!] as const)
        .filter(([b]) => b.kind === 'read_write')
        .map(([, pb]) => pb);
      const saved = written.map((pb) => {
        const copy = dev.device.createBuffer({ size: pb.capacity, usage: USAGE.COPY_SRC | USAGE.COPY_DST, label: 'profiler save' });
        d.copy(pb.buffer, 0, copy, 0, pb.capacity);
        return copy;
      });
      await dev.sync();
      const timed = async (reps: number) => {
        const t = performance.now();
        for (let r = 0; r < reps; r++) d.dispatch(p.kernel, p.buffers, p.uniforms, p.grid, p.describe, p.constants);
        await dev.sync();
        return Math.max(0, (performance.now() - t) * 1e6 - roundTrip) / reps;
      };
      const first = await timed(1);
      const reps = Math.min(64, Math.ceil(1e6 / Math.max(first, 5e3))); // about 1 ms of work
      const ns = reps > 1 ? await timed(reps) : first;
      written.forEach((pb, i) => d.copy(saved[i]!, 0, pb.buffer, 0, pb.capacity));
      await dev.sync();
      for (const b of saved) b.destroy();
      out.push(sample(p, clock, ns));
      clock += ns;
    }
    return out;
  }
}

function sample(p: Pending, startNs: number, durationNs: number): DispatchSample {
  return { kernel: p.kernel, describe: p.describe(), uniforms: p.uniforms, constants: p.constants ?? {}, grid: p.grid, recordedMs: p.recordedMs, startNs, durationNs };
}

/** Median submit-and-wait of an empty command buffer, ns: what a waited dispatch costs beyond its work. */
async function emptyRoundTripNs(dev: Device): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    dev.device.queue.submit([dev.device.createCommandEncoder().finish()]);
    await dev.device.queue.onSubmittedWorkDone();
    times.push((performance.now() - t) * 1e6);
  }
  times.sort((a, b) => a - b);
  return times[3]!;
}
