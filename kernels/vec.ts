/**
 * Kernels compiled at two vector widths from one WGSL source. The source uses `V` as its element
 * type; the scalar variant is compiled with `alias V = f32;` (any channel count), the vec4 one with
 * `alias V = vec4f;` (channel counts divisible by 4). On lavapipe a vec4 load is one bounds-checked
 * load instead of four, and four channels share each thread's index math.
 */
import { defineKernel, type Kernel, type KernelSpec } from '../src/kernel/define-kernel.js';

export interface VecKernel {
  /** One channel per element (`V = f32`). */
  v1: Kernel;
  /** Four adjacent channels per element (`V = vec4f`). */
  v4: Kernel;
}

/** Declares `spec` twice: `name` with V = f32 and `name_v4` with V = vec4f. */
export function defineVecKernel(spec: KernelSpec): VecKernel {
  return {
    v1: defineKernel({ ...spec, source: `alias V = f32;\n${spec.source}` }),
    v4: defineKernel({ ...spec, name: `${spec.name}_v4`, source: `alias V = vec4f;\n${spec.source}` }),
  };
}

/** The variant for rows of `width` elements, and that width in elements of the variant. */
export function pickWidth(k: VecKernel, width: number): { kernel: Kernel; w: number } {
  return width % 4 === 0 ? { kernel: k.v4, w: 4 } : { kernel: k.v1, w: 1 };
}
