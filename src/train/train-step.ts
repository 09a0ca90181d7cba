/**
 * The body of one training step (upload, GPU augmentation, forward, loss, backward, AdamW) written
 * so that it can be recorded and replayed (step-recorder.ts): the batch's bytes, augmentation
 * parameters and labels are per-step uploads read from a mutable {@link StepBatch}, made before any
 * kernel runs.
 */
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import type { Optimizer } from '../optim/optimizer.js';
import { AUGMENT_PARAMS, augmentImages } from '../ops/augment.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { perStepTensor } from '../tensor/per-step.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** One batch as the host holds it; a replayed step reads whatever it holds when it replays. */
export interface StepBatch {
  /** n images of size x size x 3 bytes (NHWC, 8-bit RGB). */
  bytes: Uint8Array;
  /** AUGMENT_PARAMS floats per image (src/train/augment-params.ts). */
  params: Float32Array;
  labels: Int32Array;
}

/** The image bytes as whole 32-bit words (padded with zeros when the count is not a multiple of 4). */
function imageWords(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}

/**
 * One optimisation step on `batch` (n = batch.labels.length images of `size` px); returns
 * [loss, logits] kept, not read back. `classWeights` [classes], when given, weights the loss.
 */
export function trainStepOn(model: MobileNetV3Small, optimizer: Optimizer, batch: StepBatch, size: number, smoothing: number, classWeights?: Tensor): [Tensor, Tensor] {
  const n = batch.labels.length;
  return tidy(() => {
    // Per-step inputs first: their buffers are then untouched by anything earlier in the step,
    // so a replay writes them straight into place.
    const img = perStepTensor([Math.ceil((n * size * size * 3) / 4)], 'u32', () => imageWords(batch.bytes));
    const crops = perStepTensor([n, AUGMENT_PARAMS], 'f32', () => batch.params);
    const y = perStepTensor([n], 'i32', () => batch.labels);
    const x = augmentImages(img, crops, n, size, size);
    const logits = model.call(x);
    const loss = softmaxCrossEntropy(logits, y, { labelSmoothing: smoothing, classWeights });
    void loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return [keep(loss), keep(logits)] as [Tensor, Tensor];
  });
}

/**
 * What a recorded step's command stream depends on besides its per-step values: a change re-records.
 * (Hyper-parameters the kernels take as uniforms, such as BatchNorm momentum or label smoothing,
 * are fixed for a run.)
 */
export function stepKey(model: MobileNetV3Small, n: number, size: number, smoothing: number): string {
  let trainable = '';
  for (const p of model.parameters()) trainable += p.requiresGrad ? '1' : '0';
  return `${n}|${size}|${smoothing}|${model.training ? 'train' : 'eval'}|${trainable}`;
}
