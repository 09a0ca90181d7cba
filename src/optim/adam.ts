/** Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay). */
import { ADAM_STEP3_BINDINGS, adamStep, adamStep3 } from '../../kernels/optimizer.js';
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedParamGroup, type Update } from './optimizer.js';

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
   * Update three parameters per dispatch where the adapter allows it (default true; the same bits
   * either way, as PyTorch's `foreach`): fewer dispatches per step.
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

  /** [step_size, bc2_sqrt, decay, l2]: bias corrections in float64 here, the kernel gets the results. */
  protected override stepScalars(group: ResolvedParamGroup, state: ParamState): number[] {
    const [b1, b2] = this.betas;
    const t = state.step;
    const wd = group.weightDecay;
    return [group.lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), this.decoupled ? group.lr * wd : 0, this.decoupled ? 0 : wd];
  }

  /**
   * Three parameters per dispatch where the adapter allows 13 storage bindings per shader (the
   * bit-identical single-parameter kernel otherwise, and for the last one or two): MobileNetV3-Small's
   * 142 updates take 48 dispatches instead of 142. Parameters whose sizes are multiples of 4 are
   * grouped with each other and run the vec4 variants (one bounds-checked load per four values).
   */
  protected override updateAll(updates: readonly Update[], scalars: Tensor): void {
    const canGroup = this.multiTensor && getDevice().device.limits.maxStorageBuffersPerShaderStage >= ADAM_STEP3_BINDINGS;
    const slots = new Map(updates.map((u, k) => [u, k]));
    for (const part of [updates.filter((u) => u.param.size % 4 === 0), updates.filter((u) => u.param.size % 4 !== 0)]) {
      const grouped = canGroup ? Math.floor(part.length / 3) * 3 : 0;
      for (let k = 0; k < grouped; k += 3) this.update3(part[k]!, part[k + 1]!, part[k + 2]!, scalars, slots);
      for (let k = grouped; k < part.length; k++) {
        const u = part[k]!;
        this.update(u.param, u.grad, u.group, u.state, scalars, slots.get(u)!);
      }
    }
  }

  private update3(a: Update, b: Update, c: Update, scalars: Tensor, slots: Map<Update, number>): void {
    const [b1, b2] = this.betas;
    const w = a.param.size % 4 === 0 && b.param.size % 4 === 0 && c.param.size % 4 === 0 ? 4 : 1;
    const [n0, n1, n2] = [a.param.size / w, b.param.size / w, c.param.size / w];
    const wg1 = Math.ceil(n0 / 256);
    const wg2 = wg1 + Math.ceil(n1 / 256);
    const [g0, g1, g2] = [gradParts(a.grad), gradParts(b.grad), gradParts(c.grad)];
    runKernel(w === 4 ? adamStep3.v4 : adamStep3.v1, {
      a3_grad0: g0.parts, a3_grad1: g1.parts, a3_grad2: g2.parts, a3_scalars: scalars,
      a3_param0: a.param, a3_m0: a.state.buffers.expAvg!, a3_v0: a.state.buffers.expAvgSq!,
      a3_param1: b.param, a3_m1: b.state.buffers.expAvg!, a3_v1: b.state.buffers.expAvgSq!,
      a3_param2: c.param, a3_m2: c.state.buffers.expAvg!, a3_v2: c.state.buffers.expAvgSq!,
    }, {}, {
      n0, n1, n2, slot0: slots.get(a)!, slot1: slots.get(b)!, slot2: slots.get(c)!, wg1, wg2, beta1: b1, beta2: b2, eps: this.eps,
      splits0: g0.splits, splits1: g1.splits, splits2: g2.splits,
    });
  }

  protected override update(param: Tensor, grad: Tensor, _group: ResolvedParamGroup, state: ParamState, scalars: Tensor, slot: number): void {
    const [b1, b2] = this.betas;
    const w = param.size % 4 === 0 ? 4 : 1;
    const g = gradParts(grad);
    runKernel(w === 4 ? adamStep.v4 : adamStep.v1, { ad_grad: g.parts, ad_scalars: scalars, ad_param: param, ad_m: state.buffers.expAvg!, ad_v: state.buffers.expAvgSq! }, {}, {
      n: param.size / w, beta1: b1, beta2: b2, eps: this.eps, slot, splits: g.splits,
    });
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
