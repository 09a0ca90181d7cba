/** Softmax cross-entropy with per-class weights (class-balanced training): forward and backward. */
import { weightedCrossEntropyBackward, weightedCrossEntropyForward, weightedCrossEntropyMean } from '../../kernels/weighted-cross-entropy.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel, runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * PyTorch's `CrossEntropyLoss(weight=classWeights, label_smoothing=eps)` with mean reduction:
 * each row's loss is weighted by its label's class weight, the smoothing term by every class's
 * weight, and the sum is divided by the sum of the rows' label weights. `logits` [N, K] f32,
 * `labels` [N] i32, `classWeights` [K] f32 (not differentiated). A label outside [0, K) makes the
 * loss NaN. Called by `softmaxCrossEntropy` when `classWeights` is given.
 */
export function weightedSoftmaxCrossEntropy(logits: Tensor, labels: Tensor, classWeights: Tensor, eps: number): Tensor {
  const [n, k] = logits.shape as [number, number];
  if (classWeights.size !== k || classWeights.dtype !== 'f32') {
    throw new MobilegradError(`softmaxCrossEntropy: classWeights must be f32 [${k}] for ${k} classes, got [${classWeights.shape.join(', ')}] ${classWeights.dtype}`);
  }
  const u = { rows: n, k, smoothing: eps };
  const rows = runKernel(weightedCrossEntropyForward, { wf_logits: logits, wf_labels: labels, wf_weights: classWeights }, { wf_row_loss: { shape: [n] }, wf_row_w: { shape: [n] } }, u);
  const mean = runKernel(weightedCrossEntropyMean, { wm_row_loss: rows.wf_row_loss!, wm_row_w: rows.wf_row_w! }, { wm_loss: { shape: [] }, wm_wsum: { shape: [1] } }, { n });
  rows.wf_row_loss!.release();
  rows.wf_row_w!.release();
  const loss = mean.wm_loss!;
  const wsum = mean.wm_wsum!;
  attach(loss, 'softmaxCrossEntropy', [logits, labels], (g) => {
    const d = runKernel1(weightedCrossEntropyBackward, { wb_logits: logits, wb_labels: labels, wb_weights: classWeights, wb_wsum: wsum, wb_g: g }, { shape: logits.shape }, u);
    wsum.release();
    return [d, null];
  });
  // No graph node (noGrad, or logits need no gradient): the denominator is not needed any more.
  if (!loss.gradFn) wsum.release();
  return loss;
}
