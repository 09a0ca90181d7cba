/**
 * Quantization-aware training: the folded network (BatchNorm folded into the convolutions, so
 * there is no BatchNorm left to drift) trains on with every int8 point fake-quantized: weights
 * per output channel from their own maxima, activations with the fixed scales and zero points of
 * the post-training calibration. Gradients pass straight through the rounding (STE) and stop
 * where a value clips. AdamW, no weight decay, cosine decay from `lr` to zero, the trainer's
 * augmentation and label smoothing. The result is a folded network the quantizer then turns
 * into int8 with the same activation parameters.
 */
import { shuffledBatches } from '../data/batches.js';
import type { AugmentationLevel } from '../data/recipe.js';
import { identityParams, prepareBatch, uploadImages } from '../ops/augment.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { AdamW } from '../optim/adam.js';
import { tensor } from '../tensor/create.js';
import { Rng } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { randomAugmentParams } from '../train/augment-params.js';
import { gatherImages, type ImageSet } from '../train/evaluate.js';
import { fakeQuant, fakeQuantChannelsOp } from './fake-quant.js';
import type { FoldedLayer, FoldedNet } from './fold.js';
import { floatGraphForward, weightShape, type GraphLayerWeights } from './float-graph.js';
import { planLayers } from './net-plan.js';
import type { QuantParams } from './qparams.js';

export interface QatOptions {
  epochs: number;
  batchSize: number;
  /** Peak learning rate (1e-4: a tenth of the trainer's default, as QAT usually fine-tunes gently). */
  lr?: number;
  seed?: number;
  /** Augmentation level of the training images ('standard'); 'none' for none. */
  augmentation?: AugmentationLevel | 'none';
  labelSmoothing?: number;
  /** Called after each epoch with its mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Fine-tunes `net` with fake quantization at `acts`; returns the new folded weights. */
export async function quantizationAwareTraining(net: FoldedNet, acts: Map<string, QuantParams>, set: ImageSet, trainIdx: readonly number[], o: QatOptions): Promise<FoldedNet> {
  const weights = new Map<string, GraphLayerWeights>();
  const params: Tensor[] = [];
  for (const l of planLayers(net.plan)) {
    const f = net.layers.get(l.name)!;
    const w = tensor(f.weight, weightShape(l), { requiresGrad: true });
    const b = tensor(f.bias, [l.cout], { requiresGrad: true });
    weights.set(l.name, { weight: w, bias: b });
    params.push(w, b);
  }
  const lr = o.lr ?? 1e-4;
  const opt = new AdamW(params, { lr, weightDecay: 0 });
  const size = set.imageSize;
  const rng = new Rng((o.seed ?? 0) + 7919);
  const perEpoch = Math.floor(trainIdx.length / o.batchSize);
  const total = Math.max(1, perEpoch * o.epochs);
  let step = 0;
  try {
    for (let e = 0; e < o.epochs; e++) {
      const batches = shuffledBatches(trainIdx, o.batchSize, (o.seed ?? 0) * 1000 + e, true);
      const losses: Tensor[] = [];
      for (const b of batches) {
        opt.paramGroups[0]!.lr = (lr * (1 + Math.cos((Math.PI * step) / total))) / 2;
        const labels = tensor(Int32Array.from(b, (i) => set.labels[i]!), [b.length], { dtype: 'i32' });
        const loss = tidy(() => {
          const img = uploadImages(gatherImages(set, b), b.length, size);
          const aug = o.augmentation === 'none' ? identityParams(b.length, size) : randomAugmentParams(b.length, size, o.augmentation ?? 'standard', rng);
          const x = prepareBatch(img, aug, b.length, size, size);
          const logits = floatGraphForward(net.plan, weights, x, {
            tap: (name, t) => fakeQuant(t, acts.get(name)!),
            weightTap: (l, w) => fakeQuantChannelsOp(w, l.cout),
          });
          const l = softmaxCrossEntropy(logits, labels, { labelSmoothing: o.labelSmoothing ?? 0.1 });
          void l.backward();
          opt.step();
          opt.zeroGrad();
          return l;
        });
        labels.release();
        losses.push(loss);
        step++;
      }
      let sum = 0;
      for (const l of losses) {
        sum += await l.item();
        l.release();
      }
      o.onEpoch?.(e + 1, sum / Math.max(1, losses.length));
    }
    const layers = new Map<string, FoldedLayer>();
    for (const [name, w] of weights) layers.set(name, { weight: (await w.weight.toArray()) as Float32Array, bias: (await w.bias.toArray()) as Float32Array });
    return { plan: net.plan, layers };
  } finally {
    opt.dispose();
    for (const p of params) p.release();
  }
}
