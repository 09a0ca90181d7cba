/**
 * What an inference epilogue applies to a convolution's output as the kernel stores it
 * (kernels/epilogue.ts): BatchNorm with the running statistics, an activation, a residual add.
 * Used by the forward-only fused op in src/ops/conv-bn-act.ts.
 */
import { Activation, type ActivationName } from '../../kernels/activation.js';
import type { Tensor } from '../tensor/tensor.js';

/** BatchNorm (running statistics) + activation (+ residual) applied to a convolution's output. */
export interface BnEpilogue {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
  activation: ActivationName;
  /** Added after the activation; the output's shape. */
  residual?: Tensor;
  /**
   * Pointwise convolutions of a batch-1 input only: each input channel scaled by this [Cin] (or
   * [1, Cin]) vector before the convolution (the squeeze-and-excitation gate), applied to the
   * weights' rows as the kernel loads them (src/ops/matmul.ts, pointwiseInputScaleFuses).
   */
  inputScale?: Tensor;
}

/** The fused kernels' extra bindings (an unused residual binding gets a stand-in it never reads). */
export function epilogueTensors(e: BnEpilogue): Record<string, Tensor> {
  return { ep_gamma: e.gamma, ep_beta: e.beta, ep_mean: e.runningMean, ep_var: e.runningVar, ep_res: e.residual ?? e.runningMean };
}

/** The fused kernels' override constants. */
export function epilogueConstants(e: BnEpilogue): Record<string, number> {
  return { EPI_ACT: Activation[e.activation], EPI_RES: e.residual ? 1 : 0, EPI_EPS: e.eps };
}
