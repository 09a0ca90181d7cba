/** BatchNorm over the channel (last) axis with running statistics, PyTorch's conventions. */
import type { ActivationName } from '../../kernels/activation.js';
import { batchNorm } from '../ops/index.js';
import type { BnEpilogue } from '../ops/epilogue.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant } from './init.js';
import { Module } from './module.js';

export interface BatchNormOptions {
  /** torchvision MobileNetV3: 0.001. */
  eps?: number;
  /** Weight of the new batch in the running statistics; torchvision MobileNetV3: 0.01. */
  momentum?: number;
}

export class BatchNorm2d extends Module {
  eps: number;
  momentum: number;
  constructor(readonly channels: number, options: BatchNormOptions = {}) {
    super();
    this.eps = options.eps ?? 1e-3;
    this.momentum = options.momentum ?? 0.01;
    this.addParameter('weight', constant([channels], 1), 'same');
    this.addParameter('bias', constant([channels], 0), 'same');
    this.addBuffer('running_mean', constant([channels], 0));
    this.addBuffer('running_var', constant([channels], 1));
  }

  /** `activation` is fused into the normalisation kernel (ConvBNAct uses it). */
  override call(x: Tensor, activation: ActivationName = 'identity'): Tensor {
    const y = this.forwardWith(x, activation);
    for (const h of this.hooksList()) h(this, x, y);
    return y;
  }

  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'identity');
  }

  /** This layer in evaluation as a fused convolution epilogue (src/ops/conv-bn-act.ts). */
  epilogue(activation: ActivationName, residual?: Tensor): BnEpilogue {
    return {
      gamma: this.tensorOf('weight'),
      beta: this.tensorOf('bias'),
      runningMean: this.tensorOf('running_mean'),
      runningVar: this.tensorOf('running_var'),
      eps: this.eps,
      activation,
      ...(residual ? { residual } : {}),
    };
  }

  private forwardWith(x: Tensor, activation: ActivationName): Tensor {
    return batchNorm(
      x,
      this.tensorOf('weight'),
      this.tensorOf('bias'),
      { mean: this.tensorOf('running_mean'), var: this.tensorOf('running_var') },
      { training: this.training, momentum: this.momentum, eps: this.eps, activation },
    );
  }
}
