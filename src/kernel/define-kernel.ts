/**
 * The one way a kernel enters mobilegrad, for built-in kernels and user kernels alike.
 * A kernel is a WGSL entry point plus a declaration of its bindings, uniform fields and grid;
 * `wgsl_reflect` reads the WGSL so that bind-group layouts and uniform packing come from the
 * shader itself, and a declaration that disagrees with its WGSL is an error, not a wrong number.
 */
import * as reflectLib from 'wgsl_reflect/wgsl_reflect.module.js';

const { WgslReflect } = reflectLib as unknown as { WgslReflect: new (src: string) => Reflection };

interface Reflection {
  entry: { compute: { name: string; resources: Resource[]; workgroupSize: number[] | null }[] };
  overrides: { name: string }[];
}
interface Resource {
  name: string;
  group: number;
  binding: number;
  resourceType: number; // 0 uniform, 1 storage
  access: string;
  type: { name: string; size: number; members?: { name: string; offset: number; type: { name: string } }[] };
}

export type Grid = [number, number, number];
export type Uniforms = Record<string, number>;

/** What one launch of a kernel costs, for the profiler's roofline and the benchmark. */
export interface KernelCost {
  /** Floating-point operations (a multiply-add counts 2). */
  flops?: number;
  /** Bytes the launch must read and write at least (each tensor once). */
  bytes?: number;
}

/** What a kernel author writes. */
export interface KernelSpec {
  /** Unique name, shown in errors, profiles and benchmarks. */
  name: string;
  /** WGSL source; may hold several entry points. */
  source: string;
  /** Entry point (default `main`). */
  entry?: string;
  /** Read-only storage bindings. */
  inputs: readonly string[];
  /** Storage bindings the kernel writes into fresh tensors. */
  outputs: readonly string[];
  /** Storage bindings updated in place on existing tensors (optimizers, running statistics). */
  inouts?: readonly string[];
  /** Fields of the kernel's single uniform struct, in any order. */
  uniforms?: readonly string[];
  /** Number of workgroups to dispatch, from the uniform values (and the launch's `override` constants). */
  workgroups: (u: Uniforms, constants: Readonly<Record<string, number>>) => Grid;
  /**
   * Optional cost of one launch from its uniform values and `override` constants (`mg.profile`
   * shows GFLOP/s, GB/s and % of roofline from it).
   */
  cost?: (u: Uniforms, constants: Readonly<Record<string, number>>) => KernelCost;
}

export interface BindingSlot {
  name: string;
  binding: number;
  kind: 'read' | 'read_write' | 'uniform';
}

export interface UniformField {
  name: string;
  offset: number;
  type: 'u32' | 'i32' | 'f32';
}

/** A declared kernel with what reflection learned from its WGSL. */
export class Kernel {
  readonly name: string;
  readonly source: string;
  readonly entry: string;
  readonly spec: KernelSpec;
  private reflected: { bindings: BindingSlot[]; uniformFields: UniformField[]; uniformSize: number; workgroupSize: Grid } | null = null;

  constructor(spec: KernelSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.source = spec.source;
    this.entry = spec.entry ?? 'main';
  }

  /** Bindings in binding order, as the WGSL declares them. */
  get bindings(): BindingSlot[] {
    return this.reflect().bindings;
  }
  get uniformFields(): UniformField[] {
    return this.reflect().uniformFields;
  }
  get uniformSize(): number {
    return this.reflect().uniformSize;
  }
  get workgroupSize(): Grid {
    return this.reflect().workgroupSize;
  }

  /** Differences between the declaration and the WGSL; empty when they agree. */
  verify(): string[] {
    const problems: string[] = [];
    let r;
    try {
      r = this.reflect();
    } catch (e) {
      return [`${this.name}: ${(e as Error).message}`];
    }
    const declared = new Map<string, BindingSlot['kind']>();
    for (const n of this.spec.inputs) declared.set(n, 'read');
    for (const n of this.spec.outputs) declared.set(n, 'read_write');
    for (const n of this.spec.inouts ?? []) declared.set(n, 'read_write');
    const seen = new Set<string>();
    for (const b of r.bindings) {
      if (b.kind === 'uniform') continue;
      seen.add(b.name);
      const want = declared.get(b.name);
      if (!want) problems.push(`${this.name}: WGSL binding '${b.name}' is not declared`);
      else if (want !== b.kind) problems.push(`${this.name}: '${b.name}' is declared ${want} but the WGSL has ${b.kind}`);
    }
    for (const n of declared.keys()) if (!seen.has(n)) problems.push(`${this.name}: declared binding '${n}' is not used by entry point '${this.entry}'`);
    const wgslFields = new Set(r.uniformFields.map((f) => f.name));
    const declFields = new Set(this.spec.uniforms ?? []);
    for (const f of wgslFields) if (!declFields.has(f)) problems.push(`${this.name}: uniform field '${f}' is not declared`);
    for (const f of declFields) if (!wgslFields.has(f)) problems.push(`${this.name}: declared uniform '${f}' is not in the WGSL uniform struct`);
    return problems;
  }

  /** Packs uniform values by field name into the struct layout the WGSL declares. */
  packUniforms(values: Uniforms, into: DataView, offset: number): void {
    for (const f of this.uniformFields) {
      const v = values[f.name];
      if (v === undefined || Number.isNaN(v)) throw new Error(`kernel ${this.name}: uniform '${f.name}' missing`);
      if (f.type === 'f32') into.setFloat32(offset + f.offset, v, true);
      else if (f.type === 'i32') into.setInt32(offset + f.offset, v, true);
      else into.setUint32(offset + f.offset, v, true);
    }
  }

  private reflect() {
    if (this.reflected) return this.reflected;
    const r = new WgslReflect(this.source);
    const ep = r.entry.compute.find((e) => e.name === this.entry);
    if (!ep) throw new Error(`no @compute entry point '${this.entry}' in the WGSL`);
    const bindings: BindingSlot[] = [];
    let uniformFields: UniformField[] = [];
    let uniformSize = 0;
    for (const res of ep.resources) {
      if (res.group !== 0) throw new Error(`binding '${res.name}' is in group ${res.group}; kernels use group 0 only`);
      if (res.resourceType === 0) {
        bindings.push({ name: res.name, binding: res.binding, kind: 'uniform' });
        uniformFields = (res.type.members ?? []).map((m) => {
          const t = m.type.name;
          if (t !== 'u32' && t !== 'i32' && t !== 'f32') throw new Error(`uniform field '${m.name}' has type ${t}; use u32, i32 or f32`);
          return { name: m.name, offset: m.offset, type: t };
        });
        uniformSize = res.type.size;
      } else if (res.resourceType === 1) {
        bindings.push({ name: res.name, binding: res.binding, kind: res.access === 'read' ? 'read' : 'read_write' });
      } else {
        throw new Error(`binding '${res.name}' is not a buffer; kernels use storage and uniform buffers`);
      }
    }
    bindings.sort((a, b) => a.binding - b.binding);
    if (bindings.filter((b) => b.kind === 'uniform').length > 1) throw new Error('a kernel has at most one uniform struct');
    const ws = ep.workgroupSize ?? [1, 1, 1];
    const workgroupSize: Grid = [ws[0] ?? 1, ws[1] ?? 1, ws[2] ?? 1];
    this.reflected = { bindings, uniformFields, uniformSize, workgroupSize };
    return this.reflected;
  }
}

const registry: Kernel[] = [];

/** Declares a kernel. Built-in kernels use this; so can users for their own ops. */
export function defineKernel(spec: KernelSpec): Kernel {
  const k = new Kernel(spec);
  registry.push(k);
  return k;
}

/** Every kernel declared so far (the test suite checks each against its WGSL). */
export function declaredKernels(): readonly Kernel[] {
  return registry;
}

/** Most workgroups per grid dimension that every WebGPU adapter accepts. */
export const MAX_GRID = 65535;

/** A 2-D grid covering `count` workgroups (WGSL rebuilds a linear id from it: see shaders/). */
export function gridFor(count: number): Grid {
  if (count <= MAX_GRID) return [Math.max(1, count), 1, 1];
  return [MAX_GRID, Math.ceil(count / MAX_GRID), 1];
}

/** Grid for `threads` invocations with `perGroup` invocations per workgroup. */
export function grid1d(threads: number, perGroup: number): Grid {
  return gridFor(Math.ceil(threads / perGroup));
}
