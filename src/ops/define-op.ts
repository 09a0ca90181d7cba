/**
 * `mg.defineOp`: one declaration turns a WGSL forward kernel and its backward (WGSL kernels, or a
 * rule composed of existing ops) into a first-class op: autograd, pipeline caching (through the
 * dispatcher), dtype and shape checks whose errors name the op, the shapes and the caller's line,
 * `op.gradcheck`, and a place in the op registry that the benchmark and the profiler read.
 * Built-in ops (src/ops/activation.ts) are declared the same way.
 *
 * Binding names carry the wiring, so a kernel needs no binding list: wgsl_reflect reads the WGSL,
 * read-only storage bindings are inputs and read_write ones outputs.
 * - forward: each read-only binding is an op input of that name; the single read_write binding is
 *   the output (its name, e.g. `y`, is the output's name in the backward).
 * - backward kernels: read-only bindings are op inputs, the output (`y`) or its gradient (`dy`:
 *   `d` + output name); read_write bindings are input gradients (`dx` for input `x`).
 * - `bind` renames: `{ bx: 'x' }` binds WGSL variable `bx` to input `x` (WGSL forbids two
 *   module-scope variables of one name, so a file holding both entry points needs it).
 */
import { attach } from '../autograd/graph.js';
import { gradcheck, type GradcheckOptions, type GradcheckReport } from '../autograd/gradcheck.js';
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { defineKernel, grid1d, Kernel, type Grid, type KernelCost, type Uniforms } from '../kernel/define-kernel.js';
import { runKernel } from '../kernel/run-kernel.js';
import { numel, type DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { userCallSite } from './call-site.js';

/** Numeric attributes of an op (enumerations are numbers too), with their defaults. */
export type OpAttrs = Record<string, number>;

/** What shape functions and checks see of a tensor. */
export interface TensorInfo {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
}

/** What a kernel's `uniforms`, `workgroups` and `constants` functions receive. */
export interface OpContext<A extends OpAttrs> {
  /** The op's tensor inputs by name. */
  inputs: Record<string, TensorInfo>;
  /** Attributes, defaults filled in. */
  attrs: A;
  /** The forward output. */
  output: TensorInfo;
}

/** One WGSL kernel of an op (its forward, or one of its backward kernels). */
export interface OpKernel<A extends OpAttrs> {
  /** WGSL source; may hold several entry points. */
  source: string;
  /** Entry point (default `main`). */
  entry?: string;
  /** WGSL variable name -> what it holds, for bindings not named after it. */
  bind?: Record<string, string>;
  /** Uniform values by field. Default: each field from the attribute of that name; `n` = output size. */
  uniforms?: (ctx: OpContext<A>) => Uniforms;
  /**
   * Workgroups to launch. Default: one invocation per output element, `grid1d(n, workgroup size)`,
   * a 2-D grid above 65,535 workgroups: rebuild the linear id as `(wid.y * nwg.x + wid.x) * WG + lid`.
   */
  workgroups?: (u: Uniforms, ctx: OpContext<A>) => Grid;
  /** Values of the WGSL's `override` constants (each distinct set compiles its own pipeline, once). */
  constants?: (ctx: OpContext<A>) => Record<string, number>;
  /** FLOPs and bytes of one launch from its uniforms (and `override` constants), for `mg.profile` and `mg.benchmarkOp`. */
  cost?: (u: Uniforms, constants: Readonly<Record<string, number>>) => KernelCost;
}

/** What a composed backward rule receives. */
export interface BackwardContext<A extends OpAttrs> {
  /** The op's tensor inputs by name (alive until the backward has run). */
  inputs: Record<string, Tensor>;
  /** The forward output. */
  output: Tensor;
  attrs: A;
  /** Which inputs need a gradient (skip the work for the others). */
  needs: Record<string, boolean>;
}

/** A backward written with existing ops: the gradient of each input (by name or in input order), null for none. */
export type BackwardRule<A extends OpAttrs> = (dy: Tensor, ctx: BackwardContext<A>) => Record<string, Tensor | null> | (Tensor | null)[];

/** Shapes (and attributes) the benchmark runs an op at. */
export interface OpBenchShape<A extends OpAttrs> {
  inputs: Record<string, readonly number[]>;
  attrs?: Partial<A>;
  /** A label for tables (default: the shapes). */
  label?: string;
}

/** The declaration {@link defineOp} takes. */
export interface OpSpec<A extends OpAttrs = OpAttrs> {
  /** Unique name: in errors, autograd nodes, profiles and benchmarks. Kernels are named `NAME.forward`, `NAME.backward`... */
  name: string;
  /** Names of the tensor arguments, in call order. */
  inputs: readonly string[];
  /** Attributes and their defaults; callers pass overrides as a last object argument. */
  attrs?: A;
  /** dtypes accepted per input (default `f32`). */
  dtypes?: Record<string, DType | readonly DType[]>;
  /** Output shape and dtype from the inputs (default: the first input's shape, `f32`). */
  output?: (inputs: Record<string, TensorInfo>, attrs: A) => { shape: readonly number[]; dtype?: DType };
  /** Checks beyond dtypes: return (or throw) a problem in words, nothing when the inputs are fine. */
  check?: (inputs: Record<string, TensorInfo>, attrs: A) => string | void | undefined;
  /** The forward kernel. */
  forward: OpKernel<A>;
  /** WGSL kernel(s) writing input gradients, or a rule composed of existing ops. None: not differentiable. */
  backward?: OpKernel<A> | readonly OpKernel<A>[] | BackwardRule<A>;
  /** Shapes for the kernel benchmark. */
  bench?: readonly OpBenchShape<A>[];
}

/** Arguments of an op: its tensors in order, then optionally attribute overrides. */
export type OpArgs<A extends OpAttrs> = Tensor[] | [...Tensor[], Partial<A>];

/** A declared op: call it like a function of tensors. */
export interface Op<A extends OpAttrs = OpAttrs> {
  (...args: OpArgs<A>): Tensor;
  /** The op's name. */
  readonly name: string;
  readonly spec: OpSpec<A>;
  /** The forward kernel, as declared with `defineKernel`. */
  readonly forwardKernel: Kernel;
  /** The WGSL backward kernels (empty for a composed rule). */
  readonly backwardKernels: readonly Kernel[];
  /** `mg.gradcheck` of this op at `inputs` (every f32 input checked unless `options.check` says otherwise). */
  gradcheck(inputs: Tensor[], attrs?: Partial<A>, options?: GradcheckOptions): Promise<GradcheckReport>;
}

/** A backward kernel with the input each of its outputs is the gradient of. */
interface GradKernel<A extends OpAttrs> {
  kernel: Kernel;
  spec: OpKernel<A>;
  /** WGSL binding -> role, for every storage binding. */
  roles: Map<string, string>;
  /** Input names whose gradient it writes, by binding. */
  writes: Map<string, string>;
}

const registry: Op[] = [];

/** Every op declared so far, built-in and user-defined (the benchmark iterates it). */
export function declaredOps(): readonly Op[] {
  return registry;
}

/** Declares an op from its WGSL kernels; see the module comment for how bindings are wired. */
export function defineOp<A extends OpAttrs = OpAttrs>(spec: OpSpec<A>): Op<A> {
  const name = spec.name;
  const defErr = (msg: string) => new MobilegradError(`defineOp('${name}'): ${msg}`);
  if (!name) throw new MobilegradError('defineOp: the op needs a name');
  if (registry.some((o) => o.name === name)) throw defErr('an op of this name is already declared');
  if (!spec.inputs.length) throw defErr('an op takes at least one tensor input');
  if (new Set(spec.inputs).size !== spec.inputs.length) throw defErr(`input names repeat: ${spec.inputs.join(', ')}`);
  const defaults = { ...(spec.attrs ?? {}) } as A;

  // Forward: read bindings are inputs, the one read_write binding is the output.
  const fwdProbe = probe(spec.forward, `${name}.forward`, defErr);
  const fwdRoles = new Map<string, string>();
  let outName = '';
  for (const b of fwdProbe.bindings) {
    if (b.kind === 'uniform') continue;
    const role = spec.forward.bind?.[b.name] ?? b.name;
    fwdRoles.set(b.name, role);
    if (b.kind === 'read_write') {
      if (outName) throw defErr(`the forward kernel writes two bindings ('${outName}' and '${role}'); an op has one output (use defineKernel + runKernel for more)`);
      outName = role;
    } else if (!spec.inputs.includes(role)) {
      throw defErr(`the forward kernel reads '${b.name}', which is not an input (${spec.inputs.join(', ')}); rename it or map it with bind`);
    }
  }
  if (!outName) throw defErr('the forward kernel writes no read_write storage binding (its output)');
  checkUniformDefaults(spec.forward, fwdProbe, defaults, 'forward', defErr);
  const forwardKernel = declare(spec.forward, `${name}.forward`, fwdProbe);

  // Backward kernels: read bindings are inputs, the output or its gradient; writes are input gradients.
  const gradName = `d${outName}`;
  const grads: GradKernel<A>[] = [];
  let rule: BackwardRule<A> | null = null;
  if (typeof spec.backward === 'function') rule = spec.backward;
  else if (spec.backward) {
    const list = (Array.isArray(spec.backward) ? spec.backward : [spec.backward]) as OpKernel<A>[];
    list.forEach((k, i) => {
      const kname = list.length === 1 ? `${name}.backward` : `${name}.backward${i}`;
      const p = probe(k, kname, defErr);
      const roles = new Map<string, string>();
      const writes = new Map<string, string>();
      for (const b of p.bindings) {
        if (b.kind === 'uniform') continue;
        const role = k.bind?.[b.name] ?? b.name;
        roles.set(b.name, role);
        if (b.kind === 'read_write') {
          const input = role.startsWith('d') ? role.slice(1) : '';
          if (!spec.inputs.includes(input)) throw defErr(`backward kernel '${k.entry ?? 'main'}' writes '${b.name}'; gradients are named 'd' + an input (${spec.inputs.map((x) => 'd' + x).join(', ')})`);
          if (grads.some((g) => [...g.writes.values()].includes(input))) throw defErr(`two backward kernels write the gradient of '${input}'`);
          writes.set(b.name, input);
        } else if (!spec.inputs.includes(role) && role !== outName && role !== gradName) {
          throw defErr(`backward kernel '${k.entry ?? 'main'}' reads '${b.name}': not an input (${spec.inputs.join(', ')}), the output '${outName}' or its gradient '${gradName}'`);
        }
      }
      if (!writes.size) throw defErr(`backward kernel '${k.entry ?? 'main'}' writes no gradient`);
      checkUniformDefaults(k, p, defaults, 'backward', defErr);
      grads.push({ kernel: declare(k, kname, p), spec: k, roles, writes });
    });
  }

  const run = (...args: OpArgs<A>): Tensor => {
    const { tensors, attrs } = splitArgs(spec, defaults, args);
    const infos: Record<string, TensorInfo> = {};
    spec.inputs.forEach((n, i) => (infos[n] = tensors[i]!));
    const output = outputInfo(spec, infos, attrs, tensors);
    const ctx: OpContext<A> = { inputs: infos, attrs, output };
    const bound: Record<string, Tensor> = {};
    for (const [binding, role] of fwdRoles) if (role !== outName) bound[binding] = tensors[spec.inputs.indexOf(role)]!;
    const outBinding = [...fwdRoles].find(([, r]) => r === outName)![0];
    const y = launch(forwardKernel, spec.forward, ctx, bound, { [outBinding]: { shape: output.shape, dtype: output.dtype } })[outBinding]!;
    if (!rule && !grads.length) return y;
    return attach(y, name, tensors, (dy) => {
      const needs: Record<string, boolean> = {};
      spec.inputs.forEach((n, i) => (needs[n] = tensors[i]!.requiresGrad));
      if (rule) return ruleGrads(spec, rule(dy, { inputs: Object.fromEntries(spec.inputs.map((n, i) => [n, tensors[i]!])), output: y, attrs, needs }));
      const out: (Tensor | null)[] = spec.inputs.map(() => null);
      for (const g of grads) {
        if (![...g.writes.values()].some((inp) => needs[inp])) continue;
        const feeds: Record<string, Tensor> = {};
        const outs: Record<string, { shape: readonly number[] }> = {};
        for (const [binding, role] of g.roles) {
          if (g.writes.has(binding)) outs[binding] = { shape: infos[g.writes.get(binding)!]!.shape };
          else feeds[binding] = role === outName ? y : role === gradName ? dy : tensors[spec.inputs.indexOf(role)]!;
        }
        const made = launch(g.kernel, g.spec, ctx, feeds, outs);
        for (const [binding, input] of g.writes) {
          if (needs[input]) out[spec.inputs.indexOf(input)] = made[binding]!;
          else made[binding]!.release();
        }
      }
      return out;
    });
  };

  const op = run as Op<A>;
  Object.defineProperty(op, 'name', { value: name });
  Object.assign(op, {
    spec,
    forwardKernel,
    backwardKernels: grads.map((g) => g.kernel),
    gradcheck: (inputs: Tensor[], attrs: Partial<A> = {}, options: GradcheckOptions = {}) =>
      gradcheck((...xs: Tensor[]) => run(...xs, attrs), inputs, { check: inputs.map((t) => t.dtype === 'f32'), ...options }),
  });
  registry.push(op as unknown as Op);
  return op;
}

/** A kernel's reflection before its declaration exists: bindings and uniform fields from the WGSL. */
function probe<A extends OpAttrs>(k: OpKernel<A>, kname: string, err: (m: string) => Error): Kernel {
  const p = new Kernel({ name: kname, source: k.source, entry: k.entry, inputs: [], outputs: [], workgroups: () => [1, 1, 1] });
  try {
    void p.bindings;
  } catch (e) {
    throw err(`${kname}: ${(e as Error).message}`);
  }
  return p;
}

function declare<A extends OpAttrs>(k: OpKernel<A>, kname: string, p: Kernel): Kernel {
  const storage = p.bindings.filter((b) => b.kind !== 'uniform');
  const wg = p.workgroupSize;
  const perGroup = wg[0] * wg[1] * wg[2];
  return defineKernel({
    name: kname,
    source: k.source,
    entry: k.entry,
    inputs: storage.filter((b) => b.kind === 'read').map((b) => b.name),
    outputs: storage.filter((b) => b.kind === 'read_write').map((b) => b.name),
    uniforms: p.uniformFields.map((f) => f.name),
    // Replaced per call when the op gives its own; this default serves the profiler and replays.
    workgroups: (u) => grid1d(u.n ?? 0, perGroup),
    cost: k.cost,
  });
}

/** Without a `uniforms` function every uniform field must be an attribute or `n`. */
function checkUniformDefaults<A extends OpAttrs>(k: OpKernel<A>, p: Kernel, defaults: A, which: string, err: (m: string) => Error): void {
  if (k.uniforms) return;
  for (const f of p.uniformFields) {
    if (f.name !== 'n' && !(f.name in defaults)) throw err(`the ${which} kernel's uniform field '${f.name}' has no value: declare an attribute '${f.name}' or give a uniforms function`);
  }
  if (!k.workgroups && !p.uniformFields.some((f) => f.name === 'n')) throw err(`the ${which} kernel has no uniform 'n' for the default grid: give a workgroups function`);
}

function launch<A extends OpAttrs>(
  kernel: Kernel,
  k: OpKernel<A>,
  ctx: OpContext<A>,
  feeds: Record<string, Tensor>,
  outs: Record<string, { shape: readonly number[]; dtype?: DType }>,
): Record<string, Tensor> {
  let u: Uniforms;
  if (k.uniforms) u = k.uniforms(ctx);
  else {
    u = {};
    for (const f of kernel.uniformFields) u[f.name] = f.name === 'n' && !('n' in ctx.attrs) ? ctx.output.size : ctx.attrs[f.name]!;
  }
  const grid = k.workgroups ? k.workgroups(u, ctx) : undefined;
  return runKernel(kernel, feeds, outs, u, { grid, constants: k.constants?.(ctx) });
}

/** Splits `(t1, t2, ..., attrs?)` and checks every tensor: count, type, released, device, dtype. */
function splitArgs<A extends OpAttrs>(spec: OpSpec<A>, defaults: A, args: unknown[]): { tensors: Tensor[]; attrs: A } {
  const last = args[args.length - 1];
  const hasAttrs = args.length > 0 && !(last instanceof Tensor) && typeof last === 'object' && last !== null;
  const tensors = (hasAttrs ? args.slice(0, -1) : args) as Tensor[];
  const fail = (msg: string) => callError(spec, msg, tensors);
  if (tensors.length !== spec.inputs.length) throw fail(`takes ${spec.inputs.length} tensor(s) (${spec.inputs.join(', ')}), got ${tensors.length}`);
  const device = getDevice();
  tensors.forEach((t, i) => {
    const n = spec.inputs[i]!;
    if (!(t instanceof Tensor)) throw fail(`input '${n}' is not a Tensor (got ${t === null ? 'null' : typeof t})`);
    if (t.released) throw fail(`input '${n}' (tensor #${t.id}) was released (by release(), or by the tidy() that made it) and cannot be used`);
    if (t.device !== device) throw fail(`input '${n}' lives on GPU device #${t.device.id}, not the current device #${device.id}: recreate it on this device`);
    const want = spec.dtypes?.[n] ?? 'f32';
    const ok = typeof want === 'string' ? t.dtype === want : want.includes(t.dtype);
    if (!ok) throw fail(`input '${n}' must be ${typeof want === 'string' ? want : want.join(' or ')}, got ${t.dtype}`);
  });
  const attrs = { ...defaults } as A;
  if (hasAttrs) {
    for (const [k, v] of Object.entries(last as Record<string, unknown>)) {
      if (!(k in defaults)) throw fail(`unknown attribute '${k}' (attributes: ${Object.keys(defaults).join(', ') || 'none'})`);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`attribute '${k}' must be a finite number, got ${String(v)}`);
      (attrs as OpAttrs)[k] = v;
    }
  }
  return { tensors, attrs };
}

function outputInfo<A extends OpAttrs>(spec: OpSpec<A>, infos: Record<string, TensorInfo>, attrs: A, tensors: Tensor[]): TensorInfo {
  let problem: string | void | undefined;
  let out: { shape: readonly number[]; dtype?: DType };
  try {
    problem = spec.check?.(infos, attrs);
    if (!problem) out = spec.output ? spec.output(infos, attrs) : { shape: tensors[0]!.shape };
  } catch (e) {
    throw callError(spec, (e as Error).message, tensors);
  }
  if (problem) throw callError(spec, problem, tensors);
  const shape = out!.shape;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw callError(spec, `its output shape function gave [${shape.join(', ')}]`, tensors);
  return { shape, dtype: out!.dtype ?? 'f32', size: numel(shape) };
}

function ruleGrads<A extends OpAttrs>(spec: OpSpec<A>, r: Record<string, Tensor | null> | (Tensor | null)[]): (Tensor | null)[] {
  if (Array.isArray(r)) return spec.inputs.map((_, i) => r[i] ?? null);
  for (const k of Object.keys(r)) if (!spec.inputs.includes(k)) throw new MobilegradError(`op ${spec.name}: its backward rule returned a gradient for '${k}', which is not an input`);
  return spec.inputs.map((n) => r[n] ?? null);
}

/** `NAME: problem (inputs: x [2, 3] f32, ...); called at file:line:col`. */
function callError<A extends OpAttrs>(spec: OpSpec<A>, msg: string, tensors: unknown[]): MobilegradError {
  const shapes = tensors
    .map((t, i) => `${spec.inputs[i] ?? `#${i}`} ${t instanceof Tensor ? `[${t.shape.join(', ')}] ${t.dtype}` : String(t)}`)
    .join(', ');
  const site = userCallSite();
  return new MobilegradError(`${spec.name}: ${msg} (inputs: ${shapes || 'none'})${site ? `; called at ${site}` : ''}`);
}
