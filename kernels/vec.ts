/**
 * Kernels compiled at two vector widths from one WGSL source. The source uses `V` as its element
 * type; the scalar variant is compiled with `alias V = f32;` (any channel count), the vec4 one with
 * `alias V = vec4f;` (channel counts divisible by 4). On lavapipe a vec4 load is one bounds-checked
 * load instead of four, and four channels share each thread's index math.
 */
import { defineKernel, type Kernel, type KernelCost, type KernelSpec, type Uniforms } from '../src/kernel/define-kernel.js';

export interface VecKernel {
  /** One channel per element (`V = f32`). */
  v1: Kernel;
  /** Four adjacent channels per element (`V = vec4f`). */
  v4: Kernel;
}

export interface VecKernelSpec extends Omit<KernelSpec, 'cost'> {
  /** Cost of one launch; `w` is the variant's width (1 or 4 floats per element). */
  cost?: (u: Uniforms, constants: Readonly<Record<string, number>>, w: number) => KernelCost;
  /** A WGSL extension the source needs (`subgroups`): its `enable` directive goes first, before the alias. */
  enable?: string;
}

/** Declares `spec` twice: `name` with V = f32 and `name_v4` with V = vec4f. */
export function defineVecKernel(spec: VecKernelSpec): VecKernel {
  const { cost, enable, ...rest } = spec;
  const at = (w: number): KernelSpec => ({
    ...rest,
    name: w === 4 ? `${spec.name}_v4` : spec.name,
    source: `${enable ? `enable ${enable};\n` : ''}alias V = ${w === 4 ? 'vec4f' : 'f32'};\n${spec.source}`,
    ...(cost ? { cost: (u: Uniforms, c: Readonly<Record<string, number>>) => cost(u, c, w) } : {}),
  });
  return { v1: defineKernel(at(1)), v4: defineKernel(at(4)) };
}

/** The variant for rows of `width` floats, and the floats per element of that variant. */
export function pickWidth(k: VecKernel, width: number): { kernel: Kernel; w: number } {
  return width % 4 === 0 ? { kernel: k.v4, w: 4 } : { kernel: k.v1, w: 1 };
}
