/**
 * Per-step host values (a batch's bytes, its labels, learning-rate terms, dropout seeds) uploaded
 * into a tensor. Kernels read them from storage instead of from their uniforms, so a recorded
 * training step stays valid from one step to the next: when the step is replayed, the recording
 * calls `compute` again, in the order the step called it, and uploads the fresh bytes into the
 * same buffer. `compute` is therefore "the host work of this step" (it may advance counters or
 * draw random numbers) and must return the same number of bytes every time.
 */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { byteSize, type DType } from './dtype.js';
import { Tensor } from './tensor.js';

/**
 * A tensor filled with `compute()`'s bytes now, and again on every replay of a recorded step that
 * made it. The bytes are uploaded as they are (no conversion): a Float32Array for f32, an
 * Int32Array for i32, a Uint32Array or any bytes for u32.
 */
export function perStepTensor(shape: readonly number[], dtype: DType, compute: () => ArrayBufferView): Tensor {
  const t = new Tensor(shape, dtype);
  const bytes = byteSize(dtype, t.size);
  const check = (v: ArrayBufferView): ArrayBufferView => {
    if (v.byteLength !== bytes) throw new MobilegradError(`perStepTensor [${shape.join(', ')}] ${dtype}: ${v.byteLength} bytes given, ${bytes} expected`);
    return v;
  };
  const regen = () => check(compute());
  getDevice().write(t.buffer.buffer, regen(), 0, regen);
  return t;
}
