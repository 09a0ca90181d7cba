/**
 * Tensors: a shape, a dtype and a GPU buffer from the pool, plus what autograd needs
 * (`requiresGrad`, `grad`, the node that produced it). Data stays on the GPU until `toArray()`.
 */
import type { PooledBuffer } from '../device/buffer-pool.js';
import { getDevice, type Device } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { byteSize, checkShape, f16BitsToF32, numel, type DType, type HostArray } from './dtype.js';
import { track } from './scope.js';

/** A pooled buffer shared by a tensor and its reshaped views, and the device it lives on. */
interface Storage {
  buffer: PooledBuffer;
  refs: number;
  device: Device;
}

/** The node of the autograd graph that produced a tensor. */
export interface GradNode {
  /** Op name, for error messages and profiles. */
  op: string;
  inputs: Tensor[];
  /** Gradients with respect to each input, given the gradient of the output. */
  backward: (grad: Tensor) => (Tensor | null)[];
}

let nextId = 1;

// Safety net: a tensor that becomes unreachable without being released gives its buffer back.
const finalizer = typeof FinalizationRegistry !== 'undefined'
  ? new FinalizationRegistry<{ storage: Storage; done: { v: boolean } }>((h) => {
      if (!h.done.v) releaseStorage(h.storage);
    })
  : null;

function releaseStorage(s: Storage): void {
  if (--s.refs === 0) s.device.pool.release(s.buffer);
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Whether gradients flow to this tensor. */
  requiresGrad = false;
  /** Accumulated gradient, for tensors with `requiresGrad` after `backward()`. */
  grad: Tensor | null = null;
  /** Autograd node that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  /** Optional name (parameters carry theirs). */
  name: string | undefined;
  private storage: Storage | null;
  private done = { v: false };
  /** The GPU device holding the data (fixed at creation). */
  readonly device: Device;

  /** @internal Use `mg.tensor`, `mg.zeros`... or an op to make tensors. */
  constructor(shape: readonly number[], dtype: DType, storage?: Storage) {
    checkShape(shape, 'tensor');
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    if (storage) {
      storage.refs++;
      this.storage = storage;
    } else {
      const bytes = byteSize(dtype, this.size);
      const device = getDevice();
      this.storage = { buffer: device.pool.acquire(bytes, `tensor [${shape.join(',')}] ${dtype}`), refs: 1, device };
    }
    this.device = this.storage.device;
    finalizer?.register(this, { storage: this.storage, done: this.done }, this.done);
    track(this);
  }

  /** The pooled GPU buffer; throws if the tensor was released. */
  get buffer(): PooledBuffer {
    if (!this.storage) throw new MobilegradError(`tensor #${this.id} [${this.shape.join(', ')}]${this.name ? ` (${this.name})` : ''} was released and cannot be used`);
    return this.storage.buffer;
  }

  /** True after `release()`. */
  get released(): boolean {
    return this.storage === null;
  }

  /** Bytes of data (not of the pool bucket). */
  get bytes(): number {
    return byteSize(this.dtype, this.size);
  }

  /** Returns the buffer to the pool now. Using the tensor afterwards is an error. Idempotent. */
  release(): void {
    if (!this.storage) return;
    const s = this.storage;
    this.storage = null;
    this.done.v = true;
    finalizer?.unregister(this.done);
    this.gradFn = null;
    releaseStorage(s);
  }

  /** @internal A tensor of another shape over the same buffer (no copy). */
  view(shape: readonly number[]): Tensor {
    if (numel(shape) !== this.size) throw new MobilegradError(`cannot view [${this.shape.join(', ')}] as [${shape.join(', ')}]: sizes differ`);
    if (!this.storage) void this.buffer;
    return new Tensor(shape, this.dtype, this.storage!);
  }

  /** Copies the data to the CPU. The only way data leaves the GPU. */
  async toArray(): Promise<HostArray> {
    const raw = await this.device.read(this.buffer.buffer, byteSize(this.dtype, this.size));
    switch (this.dtype) {
      case 'f32':
        return new Float32Array(raw, 0, this.size);
      case 'i32':
        return new Int32Array(raw, 0, this.size);
      case 'u32':
        return new Uint32Array(raw, 0, this.size);
      case 'i8x4':
        return new Int8Array(raw, 0, this.size);
      case 'f16': {
        const h = new Uint16Array(raw, 0, this.size);
        const out = new Float32Array(this.size);
        for (let i = 0; i < this.size; i++) out[i] = f16BitsToF32(h[i]!);
        return out;
      }
    }
  }

  /** Reads a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new MobilegradError(`item() needs a one-element tensor, got [${this.shape.join(', ')}]`);
    return (await this.toArray())[0]!;
  }

  /** Runs reverse-mode autograd from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor): Promise<void> {
    return runBackward(this, grad);
  }

  toString(): string {
    return `Tensor(#${this.id} [${this.shape.join(', ')}] ${this.dtype}${this.requiresGrad ? ' requiresGrad' : ''})`;
  }
}

// Late-bound to keep tensor.ts free of an import cycle with autograd (which needs ops).
let runBackward: (t: Tensor, grad?: Tensor) => Promise<void> = () => {
  throw new Error('autograd not loaded');
};
/** @internal */
export function setBackwardImpl(fn: typeof runBackward): void {
  runBackward = fn;
}
