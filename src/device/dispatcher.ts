/**
 * The single place where GPU work is issued. Every kernel launch goes through `dispatch`, which
 * records into one command encoder and one compute pass until someone needs the results (a
 * readback, an upload, `flush`). Because every dispatch passes here, a sequence of them can be
 * captured (pipeline, bind group, uniform bytes, grid) and replayed later without re-running the
 * JavaScript that produced it; dispatch and submit counts are kept here too.
 */
import type { Grid, Kernel, Uniforms } from '../kernel/define-kernel.js';
import type { PooledBuffer } from './buffer-pool.js';
import { GPUExecutionError } from './errors.js';

const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment on every adapter
const RING_SLOTS = 4096;

/** One recorded dispatch: enough to replay it with no JavaScript above the device layer. */
export interface DispatchRecord {
  kernel: Kernel;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  uniformBytes: Uint8Array | null;
  grid: Grid;
  /** The storage buffers bound, in binding order (a recording rebuilds bind groups from them). */
  buffers: PooledBuffer[];
  layout: GPUBindGroupLayout;
}

/**
 * A host upload made while capturing. `regen`, when given, recomputes the bytes for each replay
 * (per-step values: inputs, learning-rate terms, dropout seeds); without it the bytes are constant.
 */
export interface WriteRecord {
  buffer: GPUBuffer;
  offset: number;
  data: Uint8Array;
  regen: (() => ArrayBufferView) | null;
}

/** A buffer-to-buffer copy made while capturing. */
export interface CopyRecord {
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  bytes: number;
}

/** Everything a capture saw, in stream order. */
export type CapturedCommand =
  | { kind: 'dispatch'; record: DispatchRecord }
  | { kind: 'write'; write: WriteRecord }
  | { kind: 'copy'; copy: CopyRecord };

/**
 * A prepared command for {@link Dispatcher.encodeReplay}: a dispatch with its own bind group and
 * dynamic uniform offset, or a copy. Built once by a recording; encoding it runs no other JavaScript.
 */
export type ReplayCommand =
  | { copy: false; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; offsets: number[] | null; x: number; y: number; z: number }
  | { copy: true; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number };

/**
 * Watches every launch (the profiler). Returning timestamp writes gives the launch a compute pass
 * of its own with those writes, so the GPU timestamps bracket exactly this dispatch.
 */
export interface DispatchObserver {
  onDispatch(kernel: Kernel, buffers: PooledBuffer[], uniforms: Uniforms, grid: Grid, describe: () => string, constants?: Record<string, number>): GPUComputePassTimestampWrites | undefined;
}

export interface DispatchCounters {
  dispatches: number;
  submits: number;
  readbacks: number;
  pipelinesCompiled: number;
  bindGroupsCreated: number;
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  layoutId: number;
}

export class Dispatcher {
  readonly counters: DispatchCounters = { dispatches: 0, submits: 0, readbacks: 0, pipelinesCompiled: 0, bindGroupsCreated: 0 };
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private ring: GPUBuffer;
  private ringData = new ArrayBuffer(UNIFORM_SLOT * RING_SLOTS);
  private ringView = new DataView(this.ringData);
  private ringUsed = 0;
  private pipelines = new Map<Kernel, Map<string, Compiled>>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private nextLayoutId = 1;
  /** Kernel launches in the open encoder, for error messages. */
  private inFlight: string[] = [];
  private pendingScopes: Promise<void>[] = [];
  private errors: Error[] = [];
  private capture: DispatchRecord[] | null = null;
  private commands: CapturedCommand[] | null = null;
  /** When true, a dispatch that fails validation is reported with its own kernel and shapes (slow: for debugging). */
  debug = false;
  /** Sees every launch before it is recorded (set by `mg.profile`). */
  observer: DispatchObserver | null = null;

  constructor(private readonly device: GPUDevice) {
    this.ring = device.createBuffer({ size: this.ringData.byteLength, usage: 0x40 | 0x08, label: 'uniform ring' });
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(new GPUExecutionError('uncaptured', e.message, 'a GPU call outside any kernel'));
    });
  }

  /** Records one kernel launch. `buffers` are the storage bindings in the kernel's binding order. */
  dispatch(kernel: Kernel, buffers: PooledBuffer[], uniforms: Uniforms, grid: Grid, describe: () => string, constants?: Record<string, number>): void {
    const compiled = this.compile(kernel, constants);
    let uniformBytes: Uint8Array | null = null;
    let offset = 0;
    if (kernel.uniformSize > 0) {
      if (this.ringUsed >= RING_SLOTS) this.flush();
      offset = this.ringUsed * UNIFORM_SLOT;
      kernel.packUniforms(uniforms, this.ringView, offset);
      this.ringUsed++;
      if (this.capture) uniformBytes = new Uint8Array(this.ringData.slice(offset, offset + UNIFORM_SLOT));
    }
    const bindGroup = this.bindGroupFor(kernel, compiled, buffers);
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const timestampWrites = this.observer?.onDispatch(kernel, buffers, uniforms, grid, describe, constants);
    if (timestampWrites) this.closePass();
    const pass = timestampWrites ? this.openEncoder().beginComputePass({ timestampWrites }) : this.openPass();
    pass.setPipeline(compiled.pipeline);
    if (kernel.uniformSize > 0) pass.setBindGroup(0, bindGroup, [offset]);
    else pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (timestampWrites) pass.end();
    this.counters.dispatches++;
    if (this.inFlight.length < 64) this.inFlight.push(describe());
    if (this.capture) {
      const record: DispatchRecord = { kernel, pipeline: compiled.pipeline, bindGroup, uniformBytes, grid, buffers: [...buffers], layout: compiled.layout };
      this.capture.push(record);
      this.commands?.push({ kind: 'dispatch', record });
    }
    if (this.debug) this.flush();
  }

  /** Copies between buffers in stream order (ends the open compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.commands?.push({ kind: 'copy', copy: { src, srcOffset, dst, dstOffset, bytes } });
    this.closePass();
    this.openEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** True when commands are waiting in the open encoder. */
  get pending(): boolean {
    return this.encoder !== null;
  }

  /** Submits everything recorded so far as one command buffer. */
  flush(): void {
    if (!this.encoder) return;
    this.closePass();
    if (this.ringUsed > 0) this.device.queue.writeBuffer(this.ring, 0, this.ringData, 0, this.ringUsed * UNIFORM_SLOT);
    const cmd = this.encoder.finish();
    this.device.queue.submit([cmd]);
    this.counters.submits++;
    this.encoder = null;
    this.ringUsed = 0;
    const context = this.describeInFlight();
    this.inFlight = [];
    const oom = this.device.popErrorScope();
    const validation = this.device.popErrorScope();
    const scope = Promise.all([validation, oom]).then(([v, o]) => {
      if (v) this.errors.push(new GPUExecutionError('validation', v.message, context));
      if (o) this.errors.push(new GPUExecutionError('out-of-memory', o.message, context));
    });
    this.pendingScopes.push(scope);
  }

  /** Waits for submitted work's error reports; throws the first error, naming the kernels involved. */
  async checkErrors(): Promise<void> {
    const scopes = this.pendingScopes;
    this.pendingScopes = [];
    await Promise.all(scopes);
    if (this.errors.length) {
      const e = this.errors[0]!;
      this.errors = [];
      throw e;
    }
  }

  /** Starts recording every dispatch, copy and host upload (they still execute). */
  startCapture(): void {
    this.capture = [];
    this.commands = [];
  }

  /** True between startCapture and stopCapture. */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /** Stops recording and returns the captured dispatches. */
  stopCapture(): DispatchRecord[] {
    const c = this.capture ?? [];
    this.capture = null;
    this.commands = null;
    return c;
  }

  /** Stops recording and returns every captured command (dispatches, copies, uploads) in stream order. */
  stopCaptureCommands(): CapturedCommand[] {
    const c = this.commands ?? [];
    this.capture = null;
    this.commands = null;
    return c;
  }

  /** @internal Called by Device.write while capturing: the upload becomes part of the recording. */
  captureWrite(buffer: GPUBuffer, offset: number, data: ArrayBufferView, regen: (() => ArrayBufferView) | null): void {
    const bytes = new Uint8Array(data.byteLength);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.commands?.push({ kind: 'write', write: { buffer, offset, data: bytes, regen } });
  }

  /**
   * Encodes prepared commands (a recorded step) into the open encoder: per dispatch one
   * setPipeline (when it changes), one setBindGroup and one dispatchWorkgroups, nothing else.
   */
  encodeReplay(commands: readonly ReplayCommand[], describe: string): void {
    let pass = this.pass;
    let pipeline: GPUComputePipeline | null = null;
    let n = 0;
    for (const c of commands) {
      if (c.copy) {
        this.closePass();
        pass = null;
        pipeline = null;
        this.openEncoder().copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.bytes);
        continue;
      }
      if (!pass) {
        pass = this.openPass();
        pipeline = null;
      }
      if (c.pipeline !== pipeline) {
        pass.setPipeline(c.pipeline);
        pipeline = c.pipeline;
      }
      // A plain array: Dawn's Node binding takes it faster than a typed array with start and length (1.1 against 1.4 us a call here).
      if (c.offsets) pass.setBindGroup(0, c.bindGroup, c.offsets);
      else pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(c.x, c.y, c.z);
      n++;
    }
    this.counters.dispatches += n;
    if (this.inFlight.length < 64) this.inFlight.push(describe);
  }

  /** @internal The GPU device, for recordings that create their own buffers and bind groups. */
  get gpuDevice(): GPUDevice {
    return this.device;
  }

  /** Replays captured dispatches exactly: same pipelines, bind groups, uniform bytes and grids. */
  replay(records: readonly DispatchRecord[]): void {
    for (const r of records) {
      let offset = 0;
      if (r.uniformBytes) {
        if (this.ringUsed >= RING_SLOTS) this.flush();
        offset = this.ringUsed * UNIFORM_SLOT;
        new Uint8Array(this.ringData, offset, UNIFORM_SLOT).set(r.uniformBytes);
        this.ringUsed++;
      }
      const pass = this.openPass();
      pass.setPipeline(r.pipeline);
      if (r.uniformBytes) pass.setBindGroup(0, r.bindGroup, [offset]);
      else pass.setBindGroup(0, r.bindGroup);
      pass.dispatchWorkgroups(r.grid[0], r.grid[1], r.grid[2]);
      this.counters.dispatches++;
    }
  }

  /** Forgets cached bind groups (after the pool destroyed buffers). */
  clearBindGroups(): void {
    this.bindGroups.clear();
  }

  private compile(kernel: Kernel, constants?: Record<string, number>): Compiled {
    let byConst = this.pipelines.get(kernel);
    if (!byConst) this.pipelines.set(kernel, (byConst = new Map()));
    const key = constants ? JSON.stringify(constants) : '';
    const hit = byConst.get(key);
    if (hit) return hit;
    const problems = kernel.verify();
    if (problems.length) throw new Error(`kernel declaration does not match its WGSL: ${problems.join('; ')}`);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: kernel.source, label: kernel.name });
    const layout = this.device.createBindGroupLayout({
      label: kernel.name,
      entries: kernel.bindings.map((b) => ({
        binding: b.binding,
        visibility: 4, // COMPUTE
        buffer:
          b.kind === 'uniform'
            ? { type: 'uniform' as const, hasDynamicOffset: true, minBindingSize: kernel.uniformSize }
            : { type: b.kind === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
      })),
    });
    const pipeline = this.device.createComputePipeline({
      label: kernel.name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: kernel.entry, constants },
    });
    const name = kernel.name;
    this.pendingScopes.push(
      this.device.popErrorScope().then(async (err) => {
        if (!err) return;
        const info = await module.getCompilationInfo();
        const msgs = info.messages.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ');
        this.errors.push(new GPUExecutionError('shader compilation', msgs || err.message, `kernel ${name}`));
      }),
    );
    this.counters.pipelinesCompiled++;
    const compiled = { pipeline, layout, layoutId: this.nextLayoutId++ };
    byConst.set(key, compiled);
    return compiled;
  }

  private bindGroupFor(kernel: Kernel, compiled: Compiled, buffers: PooledBuffer[]): GPUBindGroup {
    let key = String(compiled.layoutId);
    for (const b of buffers) key += ',' + b.id;
    let bg = this.bindGroups.get(key);
    if (bg) return bg;
    let i = 0;
    const entries: GPUBindGroupEntry[] = kernel.bindings.map((b) => {
      if (b.kind === 'uniform') return { binding: b.binding, resource: { buffer: this.ring, offset: 0, size: Math.ceil(kernel.uniformSize / 16) * 16 } };
      const pb = buffers[i++]!;
      return { binding: b.binding, resource: { buffer: pb.buffer } };
    });
    bg = this.device.createBindGroup({ label: kernel.name, layout: compiled.layout, entries });
    this.counters.bindGroupsCreated++;
    if (this.bindGroups.size > 20000) this.bindGroups.clear();
    this.bindGroups.set(key, bg);
    return bg;
  }

  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('validation');
      this.device.pushErrorScope('out-of-memory');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.openEncoder().beginComputePass();
    return this.pass;
  }

  private closePass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private describeInFlight(): string {
    if (this.inFlight.length === 0) return 'a copy';
    const shown = this.inFlight.slice(-8).join(', ');
    return this.inFlight.length > 8 ? `one of ${this.inFlight.length} kernels, last: ${shown}` : shown;
  }
}
