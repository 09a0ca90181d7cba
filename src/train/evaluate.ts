/** Evaluation: loss, accuracy, confusion matrix; and BatchNorm statistics recomputed from training data. */
import { noGrad } from '../autograd/graph.js';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import { MobilegradError } from '../device/errors.js';
import { Int8Model } from '../quant/int8-model.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { identityParams, prepareBatch, uploadImages } from '../ops/augment.js';
import { softmax } from '../ops/loss.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/** Images held in memory as 8-bit RGB at the training size. */
export interface ImageSet {
  images: Uint8Array;
  labels: Int32Array;
  imageSize: number;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  count: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClassAccuracy: number[];
  /** Class probabilities [count, classes], in the order of the evaluated indices. */
  probabilities: Float32Array;
}

/** Gathers `idx` images into one contiguous byte array. */
export function gatherImages(set: ImageSet, idx: readonly number[]): Uint8Array {
  const per = set.imageSize * set.imageSize * 3;
  const out = new Uint8Array(idx.length * per);
  idx.forEach((k, i) => out.set(set.images.subarray(k * per, (k + 1) * per), i * per));
  return out;
}

/** A float model or an int8 one (`Int8Model`, from an int8 model folder). */
export type Classifier = MobileNetV3Small | Int8Model;

/** Runs the model without augmentation on `idx` and returns class probabilities [idx.length, classes]. */
export async function predictProbabilities(model: Classifier, set: ImageSet, idx: readonly number[], batchSize: number, inputSize = set.imageSize): Promise<Float32Array> {
  const k = model.numClasses;
  const out = new Float32Array(idx.length * k);
  for (let s = 0; s < idx.length; s += batchSize) {
    const b = idx.slice(s, s + batchSize);
    const probs: Tensor = tidy(() =>
      noGrad(() => {
        const img = uploadImages(gatherImages(set, b), b.length, set.imageSize);
        // The int8 model quantizes pixels itself (normalisation folded into its input table).
        if (model instanceof Int8Model) {
          if (inputSize !== set.imageSize) throw new MobilegradError(`int8 model: images are ${set.imageSize} px, the model needs ${inputSize} px`);
          return softmax(model.logitsFromPixels(img, b.length, set.imageSize));
        }
        const x = prepareBatch(img, identityParams(b.length, set.imageSize), b.length, set.imageSize, inputSize);
        return softmax(model.call(x));
      }),
    );
    out.set(await probs.toArray() as Float32Array, s * k);
    probs.release();
  }
  return out;
}

/** Accuracy, mean cross-entropy and confusion matrix of the model (eval mode) on `idx`. */
export async function evaluate(model: Classifier, set: ImageSet, idx: readonly number[], batchSize: number): Promise<EvalResult> {
  const k = model.numClasses;
  const wasTraining = model.training;
  model.eval();
  const probs = await predictProbabilities(model, set, idx, batchSize);
  if (wasTraining) model.train();
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let loss = 0;
  let correct = 0;
  idx.forEach((imgIndex, i) => {
    const row = probs.subarray(i * k, (i + 1) * k);
    let best = 0;
    for (let c = 1; c < k; c++) if (row[c]! > row[best]!) best = c;
    const y = set.labels[imgIndex]!;
    confusion[y]![best]!++;
    if (best === y) correct++;
    loss -= Math.log(Math.max(row[y]!, 1e-12));
  });
  const perClassAccuracy = confusion.map((r, c) => {
    const n = r.reduce((a, b) => a + b, 0);
    return n ? r[c]! / n : NaN;
  });
  return { loss: loss / Math.max(1, idx.length), accuracy: correct / Math.max(1, idx.length), count: idx.length, confusion, perClassAccuracy, probabilities: probs };
}

/**
 * Recomputes every BatchNorm's running statistics as the plain average over `batches` of training
 * images (no augmentation), the "precise BN" remedy: with torchvision's momentum 0.01 the running
 * statistics of a short run lag the weights so far that eval-mode accuracy can fall to chance.
 */
export async function recalibrateBatchNorm(model: MobileNetV3Small, set: ImageSet, idx: readonly number[], batchSize: number, maxBatches = 20): Promise<void> {
  const bns = model.namedModules().map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const saved = bns.map((b) => b.momentum);
  const wasTraining = model.training;
  model.train();
  const nb = Math.min(maxBatches, Math.floor(idx.length / batchSize));
  for (let i = 0; i < Math.max(1, nb); i++) {
    const b = idx.slice(i * batchSize, (i + 1) * batchSize);
    if (b.length < 2) break;
    // Cumulative average: batch i gets weight 1/(i+1).
    for (const bn of bns) bn.momentum = 1 / (i + 1);
    tidy(() =>
      noGrad(() => {
        const img = uploadImages(gatherImages(set, b), b.length, set.imageSize);
        const x = prepareBatch(img, identityParams(b.length, set.imageSize), b.length, set.imageSize, set.imageSize);
        model.call(x);
      }),
    );
  }
  bns.forEach((b, i) => (b.momentum = saved[i]!));
  if (!wasTraining) model.eval();
  await model.namedBuffers()[0]?.[1].toArray();
}
