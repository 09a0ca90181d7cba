/**
 * Runs a declared kernel on tensors: allocates its outputs from the pool, binds inputs and outputs
 * by name in the order the WGSL declares them, packs the uniforms and hands the launch to the
 * dispatcher. Ops call this; they never touch WebGPU objects.
 */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import type { Grid, Kernel, Uniforms } from './define-kernel.js';

/** Shape and dtype of a kernel output. */
export interface OutputSpec {
  shape: readonly number[];
  dtype?: DType;
}

export interface RunOptions {
  /** Values for the WGSL's `override` constants (each set compiles its own pipeline, once). */
  constants?: Record<string, number>;
  /** Grid to use instead of the kernel's own `workgroups(uniforms)`. */
  grid?: Grid;
}

/**
 * Runs `kernel` with `tensors` bound to its inputs and in-place bindings, allocating `outputs`.
 * Returns the outputs by name.
 */
export function runKernel(
  kernel: Kernel,
  tensors: Record<string, Tensor>,
  outputs: Record<string, OutputSpec>,
  uniforms: Uniforms = {},
  options: RunOptions = {},
): Record<string, Tensor> {
  const outNames = new Set(kernel.spec.outputs);
  const made: Record<string, Tensor> = {};
  for (const name of kernel.spec.outputs) {
    const spec = outputs[name];
    if (!spec) throw new Error(`kernel ${kernel.name}: no shape given for output '${name}'`);
    made[name] = new Tensor(spec.shape, spec.dtype ?? 'f32');
  }
  const device = getDevice();
  const buffers = [];
  for (const b of kernel.bindings) {
    if (b.kind === 'uniform') continue;
    const t = outNames.has(b.name) ? made[b.name] : tensors[b.name];
    if (!t) throw new Error(`kernel ${kernel.name}: no tensor bound to '${b.name}'`);
    if (t.released) throw new MobilegradError(`kernel ${kernel.name}: input '${b.name}' (tensor #${t.id} [${t.shape.join(', ')}]) was released`);
    if (t.device !== device) throw new MobilegradError(`kernel ${kernel.name}: input '${b.name}' (tensor #${t.id} [${t.shape.join(', ')}]) lives on GPU device #${t.device.id}, not on the current device #${device.id}: recreate it on the current device (mg.tensor(await t.toArray(), t.shape))`);
    buffers.push(t.buffer);
  }
  const grid = options.grid ?? kernel.spec.workgroups(uniforms, options.constants ?? {});
  const describe = () =>
    `${kernel.name}(${kernel.bindings
      .filter((b) => b.kind !== 'uniform')
      .map((b) => `${b.name}=[${(outNames.has(b.name) ? made[b.name]! : tensors[b.name]!).shape.join(',')}]`)
      .join(' ')})`;
  device.dispatcher.dispatch(kernel, buffers, uniforms, grid, describe, options.constants);
  return made;
}

/** Runs a kernel with exactly one output and returns it. */
export function runKernel1(
  kernel: Kernel,
  tensors: Record<string, Tensor>,
  out: OutputSpec,
  uniforms: Uniforms = {},
  options: RunOptions = {},
): Tensor {
  const name = kernel.spec.outputs[0];
  if (!name || kernel.spec.outputs.length !== 1) throw new Error(`kernel ${kernel.name} does not have exactly one output`);
  return runKernel(kernel, tensors, { [name]: out }, uniforms, options)[name]!;
}
