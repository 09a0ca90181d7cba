/** Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay. */
import { sgdMomentumStep, sgdStep } from '../../kernels/optimizer.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type ParamGroup, type ParamState, type ResolvedParamGroup } from './optimizer.js';

/** Options of {@link SGD}. */
export interface SGDOptions {
  lr: number;
  /** Momentum factor (default 0: plain SGD, no state). */
  momentum?: number;
  /** Dampening of the gradient added to the momentum buffer (default 0). */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0, as PyTorch). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient: g + weightDecay * p (default 0). */
  weightDecay?: number;
}

/** `torch.optim.SGD`, one fused in-place kernel per parameter. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: Tensor[] | ParamGroup[], options: SGDOptions) {
    super(params, options);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new MobilegradError(`SGD: invalid momentum ${this.momentum}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new MobilegradError('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
  }

  override get kind(): string {
    return 'SGD';
  }

  protected override stateNames(): string[] {
    return this.momentum !== 0 ? ['momentum'] : [];
  }

  /** [lr, weight_decay, buf_keep, grad_scale]. */
  protected override stepScalars(group: ResolvedParamGroup, state: ParamState): number[] {
    // PyTorch starts the buffer as a copy of the first (decayed) gradient, undampened.
    const first = state.step === 1;
    return [group.lr, group.weightDecay, first ? 0 : this.momentum, first ? 1 : 1 - this.dampening];
  }

  protected override update(param: Tensor, grad: Tensor, _group: ResolvedParamGroup, state: ParamState, scalars: Tensor, slot: number): void {
    const n = param.size;
    if (this.momentum === 0) {
      runKernel(sgdStep, { sg_grad: grad, sg_scalars: scalars, sg_param: param }, {}, { n, slot });
      return;
    }
    runKernel(sgdMomentumStep, { sm_grad: grad, sm_scalars: scalars, sm_param: param, sm_buf: state.buffers.momentum! }, {}, {
      n, momentum: this.momentum, nesterov: this.nesterov ? 1 : 0, slot,
    });
  }
}
