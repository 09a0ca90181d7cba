/**
 * Record a training step once, replay it after: the JavaScript of a step (modules, ops, autograd,
 * optimizer: hundreds of kernel launches) runs once, and every later step re-issues the captured
 * dispatches with nothing above the device layer.
 *
 * What makes a captured step valid again next time:
 * - per-step values (the batch, its labels, learning-rate terms, dropout seeds) are uploads made
 *   with `perStepTensor`; the recording calls their `compute` again in order on every replay;
 * - a static memory plan: every buffer the step used that is free when it ends (its activations,
 *   gradients, temporaries) is reserved in the pool, so nothing else is given one between replays;
 * - buffers that outlive the step (parameters, optimizer state, BatchNorm statistics) must be the
 *   same ones: each is checked by its pool generation before a replay, and a mismatch (a restored
 *   optimizer, a parameter replaced) throws the recording away and records again;
 * - the step's outputs (loss, logits) stay in the buffers the recording wrote; callers get views.
 * A step that leaves new long-lived buffers behind (an optimizer creating its state on its first
 * update) or writes host data into a long-lived buffer is not recorded: it runs eagerly and the
 * next call tries again.
 */
import { getDevice, type Device } from '../device/device.js';
import type { PooledBuffer } from '../device/buffer-pool.js';
import type { CapturedCommand } from '../device/dispatcher.js';
import { Recording } from '../device/recording.js';
import type { Tensor } from '../tensor/tensor.js';

/** Counts of what {@link StepRecorder.run} did. */
export interface StepRecorderStats {
  eager: number;
  recorded: number;
  replayed: number;
  /** Why the latest recording attempt was refused or the latest recording thrown away. */
  lastReason: string | null;
  /** Dispatches and copies of the current recording. */
  dispatches: number;
  copies: number;
  /** Buffers and bytes reserved for the current recording (its static plan), its own buffers included. */
  reservedBuffers: number;
  reservedBytes: number;
}

/** The recorded step and what it holds. */
class ReplayedStep {
  constructor(
    readonly key: string,
    readonly recording: Recording,
    readonly outputs: Tensor[],
    readonly reserved: PooledBuffer[],
    private readonly external: PooledBuffer[],
    private readonly generations: Uint32Array,
  ) {}

  /** Null when every long-lived buffer the recording binds is still the one it recorded. */
  staleReason(): string | null {
    for (let i = 0; i < this.external.length; i++) {
      const pb = this.external[i]!;
      if (!pb.inUse || pb.generation !== this.generations[i]) return `buffer ${pb.id}, which outlives the step, was released or replaced`;
    }
    for (const t of this.outputs) if (t.released) return 'an output of the recorded step was released';
    return null;
  }

  dispose(device: Device): void {
    this.recording.dispose();
    device.pool.unreserve(this.reserved);
    for (const t of this.outputs) t.release();
  }
}

/**
 * Runs a step function eagerly the first times, records it when it can, and replays the recording
 * while the step's `key` (what its structure depends on: batch size, which parameters train, ...)
 * stays the same.
 */
export class StepRecorder {
  private current: ReplayedStep | null = null;
  private failures = new Map<string, number>();
  readonly stats: StepRecorderStats = { eager: 0, recorded: 0, replayed: 0, lastReason: null, dispatches: 0, copies: 0, reservedBuffers: 0, reservedBytes: 0 };

  /**
   * @param enabled false: always run eagerly (the reference path).
   * @param maxAttempts recording attempts per key before giving up on it (eager from then on).
   */
  constructor(readonly enabled = true, private readonly maxAttempts = 3) {}

  /**
   * Runs one step. `step` must be synchronous, make its per-step values with `perStepTensor`,
   * and return its outputs kept (outside any tidy scope). Returns tensors the caller releases.
   */
  run(key: string, step: () => Tensor[]): Tensor[] {
    const device = getDevice();
    const cur = this.current;
    if (cur) {
      const stale = cur.key === key ? cur.staleReason() : 'the step changed (key)';
      if (!stale) {
        cur.recording.replay();
        this.stats.replayed++;
        return cur.outputs.map((t) => t.view(t.shape));
      }
      this.stats.lastReason = stale;
      this.discard(device);
    }
    if (!this.enabled || device.dispatcher.capturing || (this.failures.get(key) ?? 0) >= this.maxAttempts) {
      this.stats.eager++;
      return step();
    }
    return this.record(device, key, step);
  }

  /** True while a recording is held. */
  get recorded(): boolean {
    return this.current !== null;
  }

  /** Throws the recording away and gives its reserved buffers back to the pool. */
  dispose(): void {
    if (this.current) this.discard(getDevice());
  }

  private discard(device: Device): void {
    this.current?.dispose(device);
    this.current = null;
    Object.assign(this.stats, { dispatches: 0, copies: 0, reservedBuffers: 0, reservedBytes: 0 });
  }

  private record(device: Device, key: string, step: () => Tensor[]): Tensor[] {
    const pool = device.pool;
    const outer = pool.log;
    const log: NonNullable<typeof pool.log> = [];
    pool.log = log;
    device.dispatcher.startCapture();
    let outputs: Tensor[];
    let commands: CapturedCommand[];
    try {
      outputs = step();
    } finally {
      commands = device.dispatcher.stopCaptureCommands();
      pool.log = outer;
      outer?.push(...log);
    }
    const acquired = new Set(log.filter((e) => e.op === 'acquire').map((e) => e.pb));
    const plan = planStep(pool, commands, acquired, outputs);
    if (typeof plan === 'string') {
      this.stats.lastReason = plan;
      this.stats.eager++;
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      return outputs;
    }
    pool.reserve(plan.reserve);
    const recording = new Recording(device, commands, 'recorded training step');
    const generations = Uint32Array.from(plan.external, (pb) => pb.generation);
    this.current = new ReplayedStep(key, recording, outputs, plan.reserve, plan.external, generations);
    this.stats.recorded++;
    this.stats.dispatches = recording.dispatches;
    this.stats.copies = recording.copies;
    this.stats.reservedBuffers = plan.reserve.length;
    this.stats.reservedBytes = plan.reserve.reduce((s, pb) => s + pb.capacity, 0) + recording.ownBytes;
    return outputs.map((t) => t.view(t.shape));
  }
}

/** Which buffers a captured step must keep (reserve) and which long-lived ones it relies on; or why it cannot be replayed. */
function planStep(
  pool: Device['pool'],
  commands: readonly CapturedCommand[],
  acquired: ReadonlySet<PooledBuffer>,
  outputs: readonly Tensor[],
): { reserve: PooledBuffer[]; external: PooledBuffer[] } | string {
  const outs = new Set(outputs.map((t) => t.buffer));
  for (const pb of acquired) {
    if (pb.inUse && !outs.has(pb)) return `the step left buffer ${pb.id} (${pb.requested} bytes) alive besides its outputs (state created on a first call?)`;
  }
  const used = new Set<PooledBuffer>();
  const owned = (buffer: GPUBuffer, what: string): PooledBuffer | string => pool.owner(buffer) ?? `the step ${what} a buffer outside the pool`;
  const longLived = (pb: PooledBuffer) => pb.inUse && !acquired.has(pb) && !outs.has(pb);
  for (const c of commands) {
    if (c.kind === 'dispatch') for (const pb of c.record.buffers) used.add(pb);
    else if (c.kind === 'write') {
      const pb = owned(c.write.buffer, 'uploads into');
      if (typeof pb === 'string') return pb;
      if (longLived(pb)) return `the step uploads host data into buffer ${pb.id}, which outlives it`;
      used.add(pb);
    } else {
      const src = owned(c.copy.src, 'copies from');
      const dst = owned(c.copy.dst, 'copies into');
      if (typeof src === 'string') return src;
      if (typeof dst === 'string') return dst;
      used.add(src);
      used.add(dst);
    }
  }
  const reserve: PooledBuffer[] = [];
  const external: PooledBuffer[] = [];
  for (const pb of used) {
    if (!pb.inUse) reserve.push(pb);
    else if (!outs.has(pb)) external.push(pb);
  }
  return { reserve, external };
}
