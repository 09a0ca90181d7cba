/**
 * Conv + BatchNorm (running statistics) + activation (+ residual) as one kernel, for inference.
 *
 * In evaluation BatchNorm is a per-channel affine map, so the convolution kernel can apply it,
 * the activation and a residual add to each output as it stores it (kernels/epilogue.ts): one
 * dispatch and one write of the output instead of two to four. MobileNetV3-Small's 34 Conv-BN
 * layers and 6 residual adds are fused this way when the model runs in eval mode without
 * gradients (src/models/mobilenet-v3.ts).
 *
 * Forward only: no graph node is recorded, so it refuses inputs that need a gradient; training
 * and fine-tuning use conv2d / depthwiseConv2d / pointwiseConv2d and batchNorm, whose backward
 * rules sit beside their forwards. Results equal the separate ops' within float rounding (the
 * epilogue's arithmetic is the evaluation BatchNorm kernel's); test/cases/conv-bn-act.cases.ts.
 */
import { isGradEnabled } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2dForward, type Conv2dOptions } from './conv2d.js';
import { depthwiseConv2dForward } from './depthwise-conv2d.js';
import type { BnEpilogue } from './epilogue.js';
import { pointwiseConv2dEpilogue, pointwiseInputScaleFuses } from './matmul.js';

export type { BnEpilogue } from './epilogue.js';

/** Which convolution: the dense `conv2d` (HWIO weights), `depthwise` ([K, K, C]) or `pointwise` ([Cin, Cout]). */
export type ConvKind = 'general' | 'depthwise' | 'pointwise';

const dims = (t: Tensor) => `[${t.shape.join(', ')}]`;

/** Whether {@link convBnAct} takes these output channels (its kernels store vec4s of channels). */
export function convBnActSupports(outChannels: number): boolean {
  return outChannels % 4 === 0;
}

/**
 * Whether {@link convBnAct} can take `inputScale` for this pointwise x [N, H, W, Cin] and w [Cin, Cout]:
 * a batch-1 input on the subgroup GEMM (the scale goes into the weights' rows as they are loaded).
 */
export function convBnActScalesInput(x: Tensor, w: Tensor): boolean {
  return pointwiseInputScaleFuses(x, w);
}

/**
 * act(BatchNorm_eval(conv(x, w))) (+ residual) in one kernel. `epi` holds BatchNorm's gamma,
 * beta, running mean and variance ([Cout] each), its eps, the activation and the optional
 * residual (the output's shape), and for pointwise convolutions of one image an optional per-input-
 * channel scale (`inputScale`, see {@link convBnActScalesInput}). Forward only (see the module comment).
 */
export function convBnAct(kind: ConvKind, x: Tensor, w: Tensor, epi: BnEpilogue, options: Conv2dOptions = {}): Tensor {
  const what = `convBnAct(${kind}): x ${dims(x)}, w ${dims(w)}`;
  if (isGradEnabled() && [x, w, epi.gamma, epi.beta, epi.residual, epi.inputScale].some((t) => t?.requiresGrad)) {
    throw new MobilegradError(`${what}: this fused op is forward-only; compute under noGrad, or use the separate conv and batchNorm ops when gradients are needed`);
  }
  const cout = w.shape[w.shape.length - 1]!;
  if (!convBnActSupports(cout)) throw new MobilegradError(`${what}: output channels must be a multiple of 4, got ${cout}`);
  for (const [name, t] of [['gamma', epi.gamma], ['beta', epi.beta], ['running mean', epi.runningMean], ['running var', epi.runningVar]] as const) {
    if (t.shape.length !== 1 || t.shape[0] !== cout || t.dtype !== 'f32') throw new MobilegradError(`${what}: BatchNorm ${name} must be f32 [${cout}], got ${t.dtype} ${dims(t)}`);
  }
  if (epi.residual && kind !== 'pointwise') throw new MobilegradError(`${what}: a residual is fused only into pointwise convolutions`);
  if (epi.inputScale) {
    if (kind !== 'pointwise') throw new MobilegradError(`${what}: an input scale is fused only into pointwise convolutions`);
    const cin = w.shape[0]!;
    if (epi.inputScale.size !== cin || epi.inputScale.dtype !== 'f32') throw new MobilegradError(`${what}: the input scale must be f32 with ${cin} values (one per input channel), got ${epi.inputScale.dtype} ${dims(epi.inputScale)}`);
    if (!convBnActScalesInput(x, w)) throw new MobilegradError(`${what}: an input scale is fused only for one image (batch 1) with at least 64 input channels, channels in fours, on an adapter with subgroups; scale the input with mul otherwise`);
  }
  if (kind === 'general') return conv2dForward(x, w, options, epi).y;
  if (kind === 'depthwise') return depthwiseConv2dForward(x, w, options, epi).y;
  if (x.shape.length !== 4 || w.shape.length !== 2 || x.shape[3] !== w.shape[0] || x.dtype !== 'f32' || w.dtype !== 'f32') {
    throw new MobilegradError(`${what}: x must be f32 NHWC [N, H, W, Cin] and w [Cin, Cout] with the same Cin`);
  }
  const outShape = [...x.shape.slice(0, 3), cout];
  if (epi.residual && (epi.residual.shape.length !== 4 || epi.residual.shape.some((d, i) => d !== outShape[i]))) {
    throw new MobilegradError(`${what}: the residual ${dims(epi.residual)} must have the output's shape [${outShape.join(', ')}]`);
  }
  return pointwiseConv2dEpilogue(x, w, epi);
}
