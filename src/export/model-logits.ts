/** Logits of a float or int8 model for images held in memory (no softmax), for comparisons. */
import { noGrad } from '../autograd/graph.js';
import { identityParams, prepareBatch, uploadImages } from '../ops/augment.js';
import { Int8Model } from '../quant/int8-model.js';
import { tidy } from '../tensor/scope.js';
import { gatherImages, type Classifier, type ImageSet } from '../train/evaluate.js';

export async function modelLogits(model: Classifier, set: ImageSet, idx: readonly number[], batchSize = 32): Promise<Float32Array> {
  const k = model.numClasses;
  const out = new Float32Array(idx.length * k);
  if (!(model instanceof Int8Model)) model.eval();
  for (let s = 0; s < idx.length; s += batchSize) {
    const b = idx.slice(s, s + batchSize);
    const y = tidy(() =>
      noGrad(() => {
        const img = uploadImages(gatherImages(set, b), b.length, set.imageSize);
        if (model instanceof Int8Model) return model.logitsFromPixels(img, b.length, set.imageSize);
        return model.call(prepareBatch(img, identityParams(b.length, set.imageSize), b.length, set.imageSize, set.imageSize));
      }),
    );
    out.set((await y.toArray()) as Float32Array, s * k);
    y.release();
  }
  return out;
}
