/** Softmax and softmax cross-entropy with label smoothing: forward kernels and backward rules. */
import { crossEntropyBackward, crossEntropyForward, rowMean, softmaxBackward, softmaxForward } from '../../kernels/loss.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { weightedSoftmaxCrossEntropy } from './weighted-cross-entropy.js';

/** Options of {@link softmaxCrossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing ε in [0, 1]: the target is (1-ε)·onehot + ε/K, as PyTorch's
   * `CrossEntropyLoss(label_smoothing=ε)`. Default 0.
   */
  labelSmoothing?: number;
  /**
   * Per-class weights [K] (f32), as PyTorch's `CrossEntropyLoss(weight=...)`: the mean is then
   * weighted, sum of w[y] * loss over sum of w[y] (see weighted-cross-entropy.ts). Default none.
   */
  classWeights?: Tensor;
}

/**
 * Softmax over the last axis (rows of `logits`), max-subtracted so large logits do not overflow.
 * Differentiable.
 */
export function softmax(logits: Tensor): Tensor {
  if (logits.dtype !== 'f32' || logits.shape.length < 1) {
    throw new MobilegradError(`softmax: expects f32 logits of rank >= 1, got [${logits.shape.join(', ')}] ${logits.dtype}`);
  }
  if (logits.size === 0) throw new MobilegradError(`softmax: empty logits [${logits.shape.join(', ')}]`);
  const k = logits.shape[logits.shape.length - 1]!;
  const rows = logits.size / k;
  const u = { rows, k, smoothing: 0, scale: 1 };
  const y = runKernel1(softmaxForward, { sm_x: logits }, { shape: logits.shape }, u);
  return attach(y, 'softmax', [logits], (g) => [runKernel1(softmaxBackward, { sb_y: y, sb_dy: g }, { shape: logits.shape }, u)]);
}

/**
 * Mean softmax cross-entropy of `logits` [N, K] (f32) against class ids `labels` [N] (i32, made
 * with `mg.tensor(Int32Array, [N])`), as PyTorch's `CrossEntropyLoss(label_smoothing)` with mean
 * reduction. Returns a scalar tensor (shape `[]`). The backward, (softmax - target) · g / N, runs on
 * the GPU and recomputes the log-sum-exp instead of keeping it. A label outside [0, K) makes the
 * loss NaN (checking it on the CPU would need a readback).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const eps = options.labelSmoothing ?? 0;
  if (logits.shape.length !== 2 || logits.dtype !== 'f32') {
    throw new MobilegradError(`softmaxCrossEntropy: logits must be f32 [N, K], got [${logits.shape.join(', ')}] ${logits.dtype}`);
  }
  const [n, k] = logits.shape as [number, number];
  if (labels.size !== n || labels.shape.length > 1 || (labels.dtype !== 'i32' && labels.dtype !== 'u32')) {
    throw new MobilegradError(`softmaxCrossEntropy: labels must be i32 [${n}] for logits [${n}, ${k}], got [${labels.shape.join(', ')}] ${labels.dtype}`);
  }
  if (n === 0 || k === 0) throw new MobilegradError(`softmaxCrossEntropy: empty logits [${n}, ${k}]`);
  if (!(eps >= 0 && eps <= 1)) throw new MobilegradError(`softmaxCrossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (options.classWeights) return weightedSoftmaxCrossEntropy(logits, labels, options.classWeights, eps);
  const u = { rows: n, k, smoothing: eps, scale: 1 / n };
  const rowLoss = runKernel1(crossEntropyForward, { ce_logits: logits, ce_labels: labels }, { shape: [n] }, u);
  const loss = runKernel1(rowMean, { mean_in: rowLoss }, { shape: [] }, { n, inv_n: 1 / n });
  rowLoss.release();
  return attach(loss, 'softmaxCrossEntropy', [logits, labels], (g) => [
    runKernel1(crossEntropyBackward, { cb_logits: logits, cb_labels: labels, cb_g: g }, { shape: logits.shape }, u),
    null,
  ]);
}
