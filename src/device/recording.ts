/**
 * A captured command stream turned into something that replays with no JavaScript above the
 * device layer: the dispatches' uniform bytes live in the recording's own uniform buffer (bind
 * groups rebuilt against it, so nothing is copied per replay), and host uploads made during the
 * capture are replayed in stream order. An upload whose destination nothing earlier in the stream
 * touched is written straight into it before the replay; any other goes through the recording's
 * staging buffer and a copy at its place in the stream, so a buffer reused for two tensors within
 * the step gets its bytes exactly when the step gave them.
 *
 * The buffers the commands bind must stay where they are between replays: the caller reserves
 * them (the static memory plan in src/train/step-recorder.ts).
 */
import type { CapturedCommand, DispatchRecord, ReplayCommand, WriteRecord } from './dispatcher.js';
import type { Device } from './device.js';

const UNIFORM_SLOT = 256;
const USAGE_UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST
const USAGE_STAGING = 0x04 | 0x08; // COPY_SRC | COPY_DST

interface Upload {
  write: WriteRecord;
  /** Written straight into the destination before the replay (true), or staged and copied in order. */
  direct: boolean;
  /** Offset in the staging buffer (staged uploads). */
  stagingOffset: number;
}

/** A replayable command stream; see the module comment. */
export class Recording {
  readonly dispatches: number;
  readonly copies: number;
  /** Bytes of the recording's own GPU buffers (uniforms and staging). */
  readonly ownBytes: number;
  private readonly commands: ReplayCommand[] = [];
  private readonly uploads: Upload[] = [];
  private readonly uniformBuffer: GPUBuffer | null;
  private readonly staging: GPUBuffer | null;
  private disposed = false;

  constructor(private readonly device: Device, captured: readonly CapturedCommand[], readonly label: string) {
    const gpu = device.dispatcher.gpuDevice;
    const records = captured.filter((c): c is { kind: 'dispatch'; record: DispatchRecord } => c.kind === 'dispatch').map((c) => c.record);
    const withUniforms = records.filter((r) => r.uniformBytes).length;
    this.uniformBuffer = withUniforms ? gpu.createBuffer({ size: withUniforms * UNIFORM_SLOT, usage: USAGE_UNIFORM, label: `${label} uniforms` }) : null;
    const uniformData = new Uint8Array(withUniforms * UNIFORM_SLOT);

    // Which uploads can go straight to their destination: nothing earlier in the stream touched it.
    const touched = new Set<GPUBuffer>();
    let stagingBytes = 0;
    for (const c of captured) {
      if (c.kind === 'dispatch') for (const b of c.record.buffers) touched.add(b.buffer);
      else if (c.kind === 'copy') {
        touched.add(c.copy.src);
        touched.add(c.copy.dst);
      } else {
        const direct = !touched.has(c.write.buffer);
        touched.add(c.write.buffer);
        this.uploads.push({ write: c.write, direct, stagingOffset: direct ? -1 : stagingBytes });
        if (!direct) stagingBytes += Math.ceil(c.write.data.byteLength / 4) * 4;
      }
    }
    this.staging = stagingBytes ? gpu.createBuffer({ size: stagingBytes, usage: USAGE_STAGING, label: `${label} staging` }) : null;
    for (const u of this.uploads) if (!u.direct) gpu.queue.writeBuffer(this.staging!, u.stagingOffset, u.write.data);

    let slot = 0;
    let upload = 0;
    let copies = 0;
    for (const c of captured) {
      if (c.kind === 'dispatch') {
        const r = c.record;
        const [x, y, z] = r.grid;
        if (x === 0 || y === 0 || z === 0) continue;
        if (!r.uniformBytes) {
          this.commands.push({ copy: false, pipeline: r.pipeline, bindGroup: r.bindGroup, offsets: null, x, y, z });
          continue;
        }
        uniformData.set(r.uniformBytes.subarray(0, UNIFORM_SLOT), slot * UNIFORM_SLOT);
        this.commands.push({ copy: false, pipeline: r.pipeline, bindGroup: this.bindGroupFor(r), offsets: [slot * UNIFORM_SLOT], x, y, z });
        slot++;
      } else if (c.kind === 'copy') {
        this.commands.push({ copy: true, ...c.copy });
        copies++;
      } else {
        const u = this.uploads[upload++]!;
        if (u.direct) continue;
        this.commands.push({ copy: true, src: this.staging!, srcOffset: u.stagingOffset, dst: u.write.buffer, dstOffset: u.write.offset, bytes: Math.ceil(u.write.data.byteLength / 4) * 4 });
        copies++;
      }
    }
    if (this.uniformBuffer) gpu.queue.writeBuffer(this.uniformBuffer, 0, uniformData);
    this.dispatches = this.commands.length - copies;
    this.copies = copies;
    this.ownBytes = uniformData.byteLength + stagingBytes;
  }

  /**
   * Replays the stream into the open encoder (it is submitted with the next flush or readback).
   * Per-step values are recomputed first, in the order the recorded step computed them.
   */
  replay(): void {
    if (this.disposed) throw new Error(`${this.label}: the recording was disposed`);
    const dispatcher = this.device.dispatcher;
    // Uploads below go to the queue at once: work still waiting in the encoder (an earlier replay)
    // must be submitted first, or it would read this replay's inputs.
    if (dispatcher.pending) dispatcher.flush();
    const queue = dispatcher.gpuDevice.queue;
    for (const u of this.uploads) {
      const w = u.write;
      let data: ArrayBufferView = w.data;
      if (w.regen) {
        data = w.regen();
        if (data.byteLength !== w.data.byteLength) throw new Error(`${this.label}: a per-step upload changed size (${w.data.byteLength} -> ${data.byteLength} bytes)`);
      } else if (!u.direct) continue; // constant, already in the staging buffer
      if (u.direct) queue.writeBuffer(w.buffer, w.offset, data.buffer, data.byteOffset, data.byteLength);
      else queue.writeBuffer(this.staging!, u.stagingOffset, data.buffer, data.byteOffset, data.byteLength);
    }
    dispatcher.encodeReplay(this.commands, `${this.label} (${this.dispatches} dispatches)`);
  }

  /** Destroys the recording's own buffers (the reserved ones are the caller's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const dispatcher = this.device.dispatcher;
    if (dispatcher.pending) dispatcher.flush();
    this.uniformBuffer?.destroy();
    this.staging?.destroy();
  }

  private bindGroupFor(r: DispatchRecord): GPUBindGroup {
    let i = 0;
    const size = Math.ceil(r.kernel.uniformSize / 16) * 16;
    const entries: GPUBindGroupEntry[] = r.kernel.bindings.map((b) =>
      b.kind === 'uniform'
        ? { binding: b.binding, resource: { buffer: this.uniformBuffer!, offset: 0, size } }
        : { binding: b.binding, resource: { buffer: r.buffers[i++]!.buffer } },
    );
    return this.device.dispatcher.gpuDevice.createBindGroup({ label: `${this.label}: ${r.kernel.name}`, layout: r.layout, entries });
  }
}
