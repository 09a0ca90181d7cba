/** Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay). */
import { ADAM_MAX_GROUP, adamGroupKernel } from '../../kernels/optimizer.js';
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, PACKED, type ParamGroup, type ParamState, type ResolvedParamGroup, type Update } from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 0.01). */
  weightDecay?: number;
  /**
   * Update up to five parameters per dispatch, as many as the adapter's storage bindings allow
   * (default true; the same bits either way, as PyTorch's `foreach`): fewer dispatches per step.
   */
  multiTensor?: boolean;
}

/**
 * A gradient as the Adam kernels read it: its partial sums when their sum was deferred (a split-K
 * weight gradient, src/ops/elementwise.ts sumSplits; the kernels add them up as they load them),
 * else the gradient itself as one part.
 */
function gradParts(grad: Tensor): { parts: Tensor; splits: number } {
  return grad.deferredSum ?? { parts: grad, splits: 1 };
}

/** `torch.optim.Adam` (amsgrad off): weight decay is an L2 term added to the gradient. */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly multiTensor: boolean;

  constructor(params: Tensor[] | ParamGroup[], options: AdamOptions = {}) {
    super(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0 });
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.multiTensor = options.multiTensor ?? true;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new MobilegradError(`${this.kind}: betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (!(this.eps >= 0)) throw new MobilegradError(`${this.kind}: invalid eps ${this.eps}`);
  }

  override get kind(): string {
    return 'Adam';
  }

  /** Whether weight decay is decoupled from the gradient (AdamW). */
  protected get decoupled(): boolean {
    return false;
  }

  protected override stateNames(): string[] {
    return ['expAvg', 'expAvgSq'];
  }

  /** Both moments in one buffer per parameter: three bindings per parameter instead of four. */
  protected override packsState(): boolean {
    return true;
  }

  /** [step_size, bc2_sqrt, decay, l2]: bias corrections in float64 here, the kernel gets the results. */
  protected override stepScalars(group: ResolvedParamGroup, state: ParamState): number[] {
    const [b1, b2] = this.betas;
    const t = state.step;
    const wd = group.weightDecay;
    return [group.lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), this.decoupled ? group.lr * wd : 0, this.decoupled ? 0 : wd];
  }

  /**
   * Up to ADAM_MAX_GROUP parameters per dispatch where the adapter's storage bindings allow (three
   * per parameter plus the scalars; one per dispatch otherwise): MobileNetV3-Small's 142 updates
   * take about 30 dispatches. Parameters whose sizes are multiples of 4 are grouped with each
   * other and run the vec4 variants (one bounds-checked load per four values). Every group size
   * gives the same bits (one WGSL update function).
   */
  protected override updateAll(updates: readonly Update[], scalars: Tensor): void {
    const bindings = getDevice().device.limits.maxStorageBuffersPerShaderStage;
    const per = this.multiTensor ? Math.max(1, Math.min(ADAM_MAX_GROUP, Math.floor((bindings - 1) / 3))) : 1;
    const slots = new Map(updates.map((u, k) => [u, k]));
    for (const part of [updates.filter((u) => u.param.size % 4 === 0), updates.filter((u) => u.param.size % 4 !== 0)]) {
      for (let k = 0; k < part.length; k += per) this.updateGroup(part.slice(k, k + per), scalars, slots);
    }
  }

  private updateGroup(group: readonly Update[], scalars: Tensor, slots: ReadonlyMap<Update, number>): void {
    const [b1, b2] = this.betas;
    const w = group.every((u) => u.param.size % 4 === 0) ? 4 : 1;
    const kernel = adamGroupKernel(group.length);
    const inputs: Record<string, Tensor> = { ag_scalars: scalars };
    const uniforms: Record<string, number> = { beta1: b1, beta2: b2, eps: this.eps };
    let wg = 0;
    group.forEach((u, j) => {
      const g = gradParts(u.grad);
      const n = u.param.size / w;
      Object.assign(inputs, { [`ag_grad${j}`]: g.parts, [`ag_param${j}`]: u.param, [`ag_mv${j}`]: u.state.buffers[PACKED]! });
      Object.assign(uniforms, { [`n${j}`]: n, [`slot${j}`]: slots.get(u)!, [`splits${j}`]: g.splits });
      if (j > 0) uniforms[`wg${j}`] = wg;
      wg += Math.ceil(n / 256);
    });
    runKernel(w === 4 ? kernel.v4 : kernel.v1, inputs, {}, uniforms);
  }

  protected override update(param: Tensor, grad: Tensor, group: ResolvedParamGroup, state: ParamState, scalars: Tensor, slot: number): void {
    const u: Update = { param, grad, group, state };
    this.updateGroup([u], scalars, new Map([[u, slot]]));
  }
}

/** `torch.optim.AdamW` (amsgrad off): decoupled weight decay p -= lr * wd * p, default wd 0.01. */
export class AdamW extends Adam {
  constructor(params: Tensor[] | ParamGroup[], options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 0.01 });
  }

  override get kind(): string {
    return 'AdamW';
  }

  protected override get decoupled(): boolean {
    return true;
  }
}
