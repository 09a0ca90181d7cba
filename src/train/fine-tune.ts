/**
 * Fine-tuning a pretrained network: which parameters are the head, the optimizer's parameter
 * groups with a lower learning rate for the backbone, and when the backbone is frozen.
 *
 * The recipe (fastai's `fine_tune`, the Keras transfer-learning guide): first train the head
 * alone for a few epochs while the pretrained backbone is frozen, so the new, random classifier
 * does not send large gradients through the backbone; then train everything, the backbone at a
 * lower learning rate than the head. With `freezeBackbone` only the head is ever trained.
 */
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import type { ParamGroup } from '../optim/optimizer.js';

/** How a pretrained network is fine-tuned. */
export interface FineTuneConfig {
  /** Epochs at the start during which only the head trains (the backbone is frozen). */
  headEpochs: number;
  /** Backbone learning rate as a fraction of the head's once it is unfrozen (e.g. 0.1). */
  backboneLrScale: number;
  /** Train the head only, for the whole run. */
  freezeBackbone: boolean;
}

/** The head: torchvision's `classifier` (Linear 576->1024, h-swish, dropout, Linear 1024->classes). */
export function isHeadParameter(name: string): boolean {
  return name.startsWith('classifier.');
}

/** Default head-only epochs: a tenth of the run, at least one (and fewer than the whole run when it can). */
export function defaultHeadEpochs(epochs: number): number {
  return Math.max(1, Math.min(Math.ceil(epochs / 10), epochs - 1));
}

/**
 * AdamW parameter groups: weight decay on conv and linear weights only (not on BatchNorm or
 * biases), and, when fine-tuning, the head (first, so the optimizer's `lr` is the head's) apart
 * from the backbone. Returns the groups and each
 * group's learning rate as a fraction of the scheduled one.
 */
export function trainerParamGroups(model: MobileNetV3Small, weightDecay: number, fineTune?: FineTuneConfig): { groups: ParamGroup[]; lrScales: number[] } {
  const named = model.namedParameters();
  const decayed = (p: { shape: readonly number[] }) => p.shape.length >= 2;
  if (!fineTune) {
    return {
      groups: [
        { params: named.filter(([, p]) => decayed(p)).map(([, p]) => p), weightDecay },
        { params: named.filter(([, p]) => !decayed(p)).map(([, p]) => p), weightDecay: 0 },
      ],
      lrScales: [1, 1],
    };
  }
  const groups: ParamGroup[] = [];
  const lrScales: number[] = [];
  for (const head of [true, false]) {
    for (const decay of [true, false]) {
      const params = named.filter(([n, p]) => isHeadParameter(n) === head && decayed(p) === decay).map(([, p]) => p);
      if (!params.length) continue;
      groups.push({ params, weightDecay: decay ? weightDecay : 0 });
      lrScales.push(head ? 1 : fineTune.backboneLrScale);
    }
  }
  return { groups, lrScales };
}

/** True when the backbone is frozen during `epoch` (0-based). */
export function backboneFrozen(epoch: number, fineTune?: FineTuneConfig): boolean {
  return !!fineTune && (fineTune.freezeBackbone || epoch < fineTune.headEpochs);
}

/** Freezes (no gradients, no updates) or unfreezes every parameter outside the head. */
export function setBackboneTrainable(model: MobileNetV3Small, trainable: boolean): void {
  for (const [name, p] of model.namedParameters()) if (!isHeadParameter(name)) p.requiresGrad = trainable;
}
