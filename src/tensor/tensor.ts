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

/**
 * Content of a tensor not computed yet: the sum over the first axis of `parts` ([splits, size],
 * the partial sums of a split-K GEMM or of a split weight gradient). `sum` computes it when the
 * tensor is first used; consumers that can read the partials themselves (AdamW's update) take
 * them through {@link Tensor.deferredSum} and save the reduction's dispatch.
 */
export interface DeferredSum {
  parts: Tensor;
  splits: number;
  sum: () => Tensor;
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
  private deferred: DeferredSum | null = null;
  private done = { v: false };
  /** The GPU device holding the data (fixed at creation). */
  readonly device: Device;

  /** @internal Use `mg.tensor`, `mg.zeros`... or an op to make tensors. */
  constructor(shape: readonly number[], dtype: DType, storage?: Storage | DeferredSum) {
    checkShape(shape, 'tensor');
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    if (storage && 'parts' in storage) {
      // No buffer of its own until the sum is computed; it owns the partials until then.
      this.deferred = storage;
      this.storage = null;
      this.device = storage.parts.device;
      track(this);
      return;
    }
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

  /** @internal A tensor whose content is the sum of `d.parts` over its first axis, computed on first use. */
  static deferredSum(shape: readonly number[], d: DeferredSum): Tensor {
    if (d.parts.size !== d.splits * numel(shape)) throw new MobilegradError(`deferred sum: ${d.splits} parts of [${d.parts.shape.join(', ')}] do not make [${shape.join(', ')}]`);
    return new Tensor(shape, d.parts.dtype, d);
  }

  /** @internal The partial sums this tensor is waiting for (null once computed, or when it never was deferred). */
  get deferredSum(): { parts: Tensor; splits: number } | null {
    return this.deferred;
  }

  /** The pooled GPU buffer; throws if the tensor was released. */
  get buffer(): PooledBuffer {
    if (this.deferred) this.computeDeferred();
    if (!this.storage) throw new MobilegradError(`tensor #${this.id} [${this.shape.join(', ')}]${this.name ? ` (${this.name})` : ''} was released and cannot be used`);
    return this.storage.buffer;
  }

  /** True after `release()`. */
  get released(): boolean {
    return this.storage === null && this.deferred === null;
  }

  // Runs the deferred sum (its dispatch goes into the stream before whatever asked for the buffer)
  // and takes over the result's buffer.
  private computeDeferred(): void {
    const d = this.deferred!;
    this.deferred = null;
    const r = d.sum();
    if (r.size !== this.size || r.dtype !== this.dtype || !r.storage) throw new Error(`deferred sum: expected ${this.size} ${this.dtype} values`);
    const s = r.storage;
    s.refs++;
    this.storage = s;
    r.release();
    d.parts.release();
    finalizer?.register(this, { storage: s, done: this.done }, this.done);
  }

  /** Bytes of data (not of the pool bucket). */
  get bytes(): number {
    return byteSize(this.dtype, this.size);
  }

  /** Returns the buffer to the pool now. Using the tensor afterwards is an error. Idempotent. */
  release(): void {
    if (this.deferred) {
      this.deferred.parts.release();
      this.deferred = null;
      this.done.v = true;
      this.gradFn = null;
      return;
    }
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
    void this.buffer; // computes a deferred sum; throws if released
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
