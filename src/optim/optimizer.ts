/**
 * Optimizer base: parameter groups, per-parameter state tensors on the GPU, `step()` dispatching
 * one fused in-place kernel per parameter (no readback), `zeroGrad()`, learning-rate control and
 * host-side state dictionaries for checkpoints.
 *
 * Everything that changes from step to step (learning rate, bias corrections, first-step flags)
 * reaches the kernels through one small per-step storage buffer, SCALARS floats per parameter,
 * not through their uniforms: a recorded training step then replays with the current schedule.
 */
import { MobilegradError } from '../device/errors.js';
import { tensor, zeros } from '../tensor/create.js';
import { perStepTensor } from '../tensor/per-step.js';
import { keep } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** Parameters sharing hyper-parameters; `lr` / `weightDecay` override the optimizer's defaults. */
export interface ParamGroup {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
}

/** A parameter group as the optimizer holds it: every hyper-parameter resolved. Mutable. */
export interface ResolvedParamGroup {
  params: Tensor[];
  lr: number;
  weightDecay: number;
}

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** Learning rate. */
  lr: number;
  /** Weight decay (its meaning depends on the optimizer). */
  weightDecay?: number;
}

/** State kept for one parameter: its update count and its GPU state buffers (the parameter's shape each, or one packed buffer: Optimizer.packsState). */
export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** Host copy of an optimizer's state, from {@link Optimizer.stateDict}. */
export interface OptimizerStateDict {
  /** Optimizer class name (`SGD`, `Adam`, `AdamW`). */
  kind: string;
  /** Number of `step()` calls. */
  step: number;
  /** Hyper-parameters of each group, in order. */
  groups: { lr: number; weightDecay: number }[];
  /** Per parameter, in group order then parameter order: null before its first update. */
  params: ({ step: number; buffers: Record<string, Float32Array> } | null)[];
}

/** Floats of per-step values each parameter's update reads from the step's scalar buffer. */
export const SCALARS_PER_PARAM = 4;

/** Key of a parameter's packed state buffer (see Optimizer.packsState). */
export const PACKED = 'packed';

/** One parameter's update in a step. */
export interface Update {
  param: Tensor;
  grad: Tensor;
  group: ResolvedParamGroup;
  state: ParamState;
}

/** Base class of the optimizers. Subclasses provide the state buffers and the fused update. */
export abstract class Optimizer {
  /** Parameter groups, hyper-parameters resolved; a scheduler may change their `lr`. */
  readonly paramGroups: ResolvedParamGroup[];
  /** Number of `step()` calls so far. */
  stepCount = 0;
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(params: Tensor[] | ParamGroup[], defaults: OptimizerOptions) {
    const name = this.kind;
    if (!(defaults.lr >= 0)) throw new MobilegradError(`${name}: invalid learning rate ${defaults.lr}`);
    const list = params as (Tensor | ParamGroup)[];
    const groups: ParamGroup[] = list.length > 0 && isGroup(list[0]!) ? (list as ParamGroup[]) : [{ params: list as Tensor[] }];
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      if (!isGroup(g)) throw new MobilegradError(`${name}: pass either tensors or parameter groups, not a mix`);
      for (const p of g.params) {
        if (p.dtype !== 'f32') throw new MobilegradError(`${name}: parameter ${describe(p)} is ${p.dtype}; optimizers update f32 tensors`);
        if (p.gradFn) throw new MobilegradError(`${name}: parameter ${describe(p)} is not a leaf (it was computed by ${p.gradFn.op})`);
        if (seen.has(p)) throw new MobilegradError(`${name}: parameter ${describe(p)} appears twice (group ${gi})`);
        seen.add(p);
      }
      const lr = g.lr ?? defaults.lr;
      if (!(lr >= 0)) throw new MobilegradError(`${name}: invalid learning rate ${lr} in group ${gi}`);
      return { params: [...g.params], lr, weightDecay: g.weightDecay ?? defaults.weightDecay ?? 0 };
    });
  }

  /** Learning rate of the first group. Setting it sets every group's. */
  get lr(): number {
    return this.paramGroups[0]?.lr ?? 0;
  }
  set lr(value: number) {
    this.setLearningRate(value);
  }

  /** Sets the learning rate of every group (groups' own `lr` fields can be set one by one). */
  setLearningRate(lr: number): void {
    if (!(lr >= 0)) throw new MobilegradError(`${this.kind}: invalid learning rate ${lr}`);
    for (const g of this.paramGroups) g.lr = lr;
  }

  /**
   * Updates every parameter that has a gradient, in place (its tensor and buffer keep their
   * identity), one fused kernel each. Parameters whose `grad` is null are skipped and their state
   * does not advance. Only records GPU work: nothing is read back.
   */
  step(): void {
    const updates: Update[] = [];
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        if (g.size !== p.size) throw new MobilegradError(`${this.kind}: gradient [${g.shape.join(', ')}] does not match parameter ${describe(p)}`);
        let st = this.state.get(p);
        if (!st) {
          st = { step: 0, buffers: {} };
          if (this.packsState()) st.buffers[PACKED] = keep(zeros([this.stateNames().length * p.size]));
          else for (const b of this.stateNames()) st.buffers[b] = keep(zeros(p.shape));
          this.state.set(p, st);
        }
        updates.push({ param: p, grad: g, group, state: st });
      }
    }
    if (!updates.length) {
      this.stepCount++;
      return;
    }
    // The host side of the step (counters, learning-rate terms): run now, and again by every
    // replay of a recorded training step, for the same parameters.
    const advance = (): Float32Array => {
      this.stepCount++;
      const out = new Float32Array(updates.length * SCALARS_PER_PARAM);
      updates.forEach((u, k) => {
        u.state.step++;
        out.set(this.stepScalars(u.group, u.state), k * SCALARS_PER_PARAM);
      });
      return out;
    };
    const scalars = perStepTensor([updates.length * SCALARS_PER_PARAM], 'f32', advance);
    this.updateAll(updates, scalars);
    scalars.release();
  }

  /** Releases every parameter's gradient and sets it to null. */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.release();
        p.grad = null;
      }
    }
  }

  /** Copies the state (step counts, every state buffer, group hyper-parameters) to the host. */
  async stateDict(): Promise<OptimizerStateDict> {
    const params: OptimizerStateDict['params'] = [];
    for (const p of this.allParams()) {
      const st = this.state.get(p);
      if (!st) {
        params.push(null);
        continue;
      }
      const buffers: Record<string, Float32Array> = {};
      if (this.packsState()) {
        // One GPU buffer, saved as the named buffers it holds (the format does not depend on packing).
        const all = (await st.buffers[PACKED]!.toArray()) as Float32Array;
        this.stateNames().forEach((b, k) => (buffers[b] = all.slice(k * p.size, (k + 1) * p.size)));
      } else for (const [k, t] of Object.entries(st.buffers)) buffers[k] = Float32Array.from((await t.toArray()) as Float32Array);
      params.push({ step: st.step, buffers });
    }
    return {
      kind: this.kind,
      step: this.stepCount,
      groups: this.paramGroups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay })),
      params,
    };
  }

  /** Restores state saved by {@link stateDict} on an optimizer built over the same parameters. */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = this.kind;
    const all = this.allParams();
    if (dict.kind !== name) throw new MobilegradError(`${name}.loadStateDict: the state was saved by ${dict.kind}`);
    if (dict.params.length !== all.length || dict.groups.length !== this.paramGroups.length) {
      throw new MobilegradError(`${name}.loadStateDict: the state has ${dict.groups.length} groups and ${dict.params.length} parameters, this optimizer ${this.paramGroups.length} and ${all.length}`);
    }
    const names = this.stateNames();
    dict.params.forEach((s, i) => {
      if (!s) return;
      const p = all[i]!;
      for (const b of names) {
        const data = s.buffers[b];
        if (!data || data.length !== p.size) throw new MobilegradError(`${name}.loadStateDict: state '${b}' of parameter ${i} ${describe(p)} is missing or has the wrong size`);
      }
    });
    this.releaseState();
    dict.params.forEach((s, i) => {
      if (!s) return;
      const p = all[i]!;
      const buffers: Record<string, Tensor> = {};
      if (this.packsState()) {
        const all = new Float32Array(names.length * p.size);
        names.forEach((b, k) => all.set(s.buffers[b]!, k * p.size));
        buffers[PACKED] = keep(tensor(all, [all.length]));
      } else for (const b of names) buffers[b] = keep(tensor(s.buffers[b]!, p.shape));
      this.state.set(p, { step: s.step, buffers });
    });
    this.stepCount = dict.step;
    dict.groups.forEach((g, i) => {
      this.paramGroups[i]!.lr = g.lr;
      this.paramGroups[i]!.weightDecay = g.weightDecay;
    });
  }

  /** Releases the optimizer's state buffers (the parameters are left alone). */
  dispose(): void {
    this.releaseState();
  }

  /** Class name, for messages and state dictionaries (survives minification, unlike constructor.name). */
  get kind(): string {
    return 'Optimizer';
  }

  /** Names of the per-parameter state buffers (created zero-filled on a parameter's first update). */
  protected abstract stateNames(): string[];

  /**
   * Whether a parameter's state buffers live in one GPU buffer, `buffers.packed`, in
   * {@link stateNames} order (fewer bindings per parameter: more parameters per dispatch). State
   * dictionaries hold the named buffers either way.
   */
  protected packsState(): boolean {
    return false;
  }

  /**
   * The per-step values of one parameter's update (at most SCALARS_PER_PARAM, computed in float64
   * and stored as f32); `state.step` already counts this update.
   */
  protected abstract stepScalars(group: ResolvedParamGroup, state: ParamState): number[];

  /**
   * Records the updates of every parameter of this step, update k reading its per-step values at
   * slot k. The default is one {@link update} each; an optimizer may group several per dispatch.
   */
  protected updateAll(updates: readonly Update[], scalars: Tensor): void {
    updates.forEach((u, k) => this.update(u.param, u.grad, u.group, u.state, scalars, k));
  }

  /**
   * Records the fused update of `param` from `grad`. Its per-step values are at
   * `scalars[slot * SCALARS_PER_PARAM ...]`; everything else it needs is fixed for the optimizer.
   */
  protected abstract update(param: Tensor, grad: Tensor, group: ResolvedParamGroup, state: ParamState, scalars: Tensor, slot: number): void;

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  private releaseState(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.buffers)) t.release();
    this.state.clear();
  }
}

function isGroup(x: Tensor | ParamGroup): x is ParamGroup {
  return Array.isArray((x as ParamGroup).params);
}

function describe(p: Tensor): string {
  return `${p.name ? `'${p.name}' ` : ''}[${p.shape.join(', ')}]`;
}
