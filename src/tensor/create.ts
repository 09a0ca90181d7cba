/** Making tensors from host data, constants and seeded random numbers. */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { byteSize, f32ToF16Bits, numel, type DType } from './dtype.js';
import { globalRng, Rng } from './random.js';
import { Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
}

/** Uploads host data as a tensor. `data` length must equal the product of `shape`. */
export function tensor(data: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32');
  const n = numel(shape);
  if (data.length !== n) throw new MobilegradError(`tensor(): ${data.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  const t = new Tensor(shape, dtype);
  const bytes = byteSize(dtype, n);
  let view: ArrayBufferView;
  switch (dtype) {
    case 'f32':
      view = data instanceof Float32Array ? data : Float32Array.from(data);
      break;
    case 'i32':
      view = data instanceof Int32Array ? data : Int32Array.from(data);
      break;
    case 'u32':
      view = data instanceof Uint32Array ? data : Uint32Array.from(data);
      break;
    case 'f16': {
      const h = new Uint16Array(bytes / 2);
      for (let i = 0; i < n; i++) h[i] = f32ToF16Bits(data[i]!);
      view = h;
      break;
    }
    case 'i8x4': {
      const b = new Int8Array(bytes);
      for (let i = 0; i < n; i++) b[i] = data[i]!;
      view = b;
      break;
    }
  }
  if (view.byteLength % 4 !== 0) {
    const padded = new Uint8Array(bytes);
    padded.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    view = padded;
  }
  getDevice().write(t.buffer.buffer, view);
  t.requiresGrad = options.requiresGrad ?? false;
  t.name = options.name;
  return t;
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number, options: TensorOptions = {}): Tensor {
  const n = numel(shape);
  const dtype = options.dtype ?? 'f32';
  const data = dtype === 'i32' ? new Int32Array(n).fill(value) : dtype === 'u32' ? new Uint32Array(n).fill(value) : new Float32Array(n).fill(value);
  return tensor(data, shape, { ...options, dtype });
}

export function zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

export interface RandomOptions extends TensorOptions {
  /** Seed for this tensor alone; without it the global generator (`mg.seed`) is used. */
  seed?: number;
}

/** Normal(mean, std) values from a seeded generator. */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const rng = options.seed === undefined ? globalRng() : new Rng(options.seed);
  const n = numel(shape);
  const data = new Float32Array(n);
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
  return tensor(data, shape, options);
}

/** Uniform values in [low, high) from a seeded generator. */
export function uniform(shape: readonly number[], low = 0, high = 1, options: RandomOptions = {}): Tensor {
  const rng = options.seed === undefined ? globalRng() : new Rng(options.seed);
  const n = numel(shape);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = low + (high - low) * rng.next();
  return tensor(data, shape, options);
}

/** @internal An uninitialised tensor (kernels write it whole). */
export function empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
  return new Tensor(shape, dtype);
}
