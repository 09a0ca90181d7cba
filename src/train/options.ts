/**
 * The trainer's parameters: defaults, recommended ranges (a warning outside them) and impossible
 * values (refused with a UsageError, exit code 2).
 */
import { RESIZE_MODES, type ResizeMode } from '../data/resize.js';
import { UsageError } from '../data/usage-error.js';

export interface TrainOptions {
  /** Folder of class subfolders. */
  data: string;
  /** Separate validation folder (same classes); otherwise a stratified split of `data`. */
  val?: string;
  valSplit: number;
  batchSize: number;
  epochs: number;
  lr: number;
  imageSize: number;
  /** Also write the int8 model (post-training quantization, in <out>/int8) at the end. */
  quantize: boolean;
  /** With --quantize: quantization-aware training epochs, run when post-training quantization loses more than a point. */
  qatEpochs: number;
  /** 'auto' applies the size-based recipe. */
  recipe: 'none' | 'auto';
  out?: string;
  seed: number;
  resume?: string;
  force: boolean;
  allowSmall: boolean;
  labelSmoothing: number;
  weightDecay: number;
  /** Safetensors file with torchvision or timm weights to start from. */
  pretrained?: string;
  /** BatchNorm momentum in training (torchvision: 0.01). */
  bnMomentum: number;
  /** Recompute BatchNorm statistics from training images before each evaluation. */
  bnRecalibrate: boolean;
  /** Decode cache folder (default next to the dataset); null turns it off. */
  cacheDir?: string | null;
  /** How non-square images become square: crop the centre (default), squash, or pad. */
  resize: ResizeMode;
  /** Stop once this many epochs in a row have not beaten the best validation accuracy (0: never). */
  patience: number;
  /** 'auto': balanced class weights in the loss, for imbalanced data. */
  classWeights: 'none' | 'auto';
  /** Run the learning-rate range test first and train at its suggestion (`--lr auto`). */
  lrAuto: boolean;
  /** With `pretrained`: train the head only, the backbone stays frozen. */
  freezeBackbone: boolean;
  /** With `pretrained`: head-only epochs before the whole network trains (default a tenth of the epochs, at least 1). */
  headEpochs?: number;
  /** With `pretrained`: the backbone's learning rate as a fraction of the head's once unfrozen. */
  backboneLrScale: number;
  /** Check the data (imbalance, duplicates, leakage) at the start and warn. */
  checkData: boolean;
}

export const DEFAULTS: Omit<TrainOptions, 'data'> = {
  valSplit: 0.2,
  batchSize: 32,
  epochs: 10,
  lr: 1e-3,
  imageSize: 224,
  quantize: false,
  qatEpochs: 0,
  recipe: 'none',
  seed: 0,
  force: false,
  allowSmall: false,
  labelSmoothing: 0.1,
  weightDecay: 0.01,
  bnMomentum: 0.01,
  bnRecalibrate: true,
  resize: 'crop',
  patience: 0,
  classWeights: 'none',
  lrAuto: false,
  freezeBackbone: false,
  backboneLrScale: 0.1,
  checkData: true,
};

/** Recommended ranges from the product brief. */
export const RANGES = {
  batchSize: [16, 128],
  epochs: [10, 100],
  lr: [5e-4, 5e-3],
} as const;

/** Refuses impossible values; returns warnings for values outside the recommended ranges. */
export function checkOptions(o: TrainOptions): string[] {
  const positiveInt = (v: number, flag: string) => {
    if (!Number.isFinite(v) || !Number.isInteger(v) || v <= 0) throw new UsageError(`${flag} must be a positive whole number, got ${v}: for example ${flag} ${flag === '--image-size' ? 224 : flag === '--epochs' ? 10 : 32}`);
  };
  positiveInt(o.batchSize, '--batch-size');
  positiveInt(o.epochs, '--epochs');
  positiveInt(o.imageSize, '--image-size');
  if (!(Number.isInteger(o.qatEpochs) && o.qatEpochs >= 0)) throw new UsageError(`--qat-epochs must be a whole number of epochs, got ${o.qatEpochs}: for example --qat-epochs 2`);
  if (o.qatEpochs > 0 && !o.quantize) throw new UsageError('--qat-epochs needs --quantize (quantization-aware training refines the int8 model)');
  if (!Number.isFinite(o.lr) || o.lr <= 0) throw new UsageError(`--lr must be a positive number, got ${o.lr}: for example --lr 0.001`);
  if (!(o.valSplit >= 0 && o.valSplit < 1)) throw new UsageError(`--val-split must be in [0, 1), got ${o.valSplit}: for example --val-split 0.2`);
  if (!(o.labelSmoothing >= 0 && o.labelSmoothing < 1)) throw new UsageError(`--label-smoothing must be in [0, 1), got ${o.labelSmoothing}`);
  if (!(o.weightDecay >= 0)) throw new UsageError(`--weight-decay must be zero or positive, got ${o.weightDecay}`);
  if (!(o.bnMomentum > 0 && o.bnMomentum <= 1)) throw new UsageError(`--bn-momentum must be in (0, 1], got ${o.bnMomentum}`);
  if (o.imageSize < 32) throw new UsageError(`--image-size ${o.imageSize} is too small for MobileNetV3 (it downsamples 32x): use 32 or more`);
  if (!RESIZE_MODES.includes(o.resize)) throw new UsageError(`--resize must be one of ${RESIZE_MODES.join(', ')}, got '${o.resize}'`);
  if (!(Number.isInteger(o.patience) && o.patience >= 0)) throw new UsageError(`--patience must be a whole number of epochs (0 turns early stopping off), got ${o.patience}: for example --patience 5`);
  if (o.classWeights !== 'none' && o.classWeights !== 'auto') throw new UsageError(`--class-weights must be 'auto' or 'none', got '${o.classWeights}'`);
  if (!(o.backboneLrScale > 0 && o.backboneLrScale <= 1)) throw new UsageError(`--backbone-lr-scale must be in (0, 1], got ${o.backboneLrScale}: for example --backbone-lr-scale 0.1`);
  if (o.headEpochs !== undefined && !(Number.isInteger(o.headEpochs) && o.headEpochs >= 0 && o.headEpochs <= o.epochs)) {
    throw new UsageError(`--head-epochs must be a whole number from 0 to --epochs (${o.epochs}), got ${o.headEpochs}`);
  }
  if (!o.pretrained && (o.freezeBackbone || o.headEpochs !== undefined)) {
    throw new UsageError(`${o.freezeBackbone ? '--freeze-backbone' : '--head-epochs'} fine-tunes pretrained weights: add --pretrained FILE, or drop it to train from scratch`);
  }
  const warnings: string[] = [];
  const out = (v: number, [lo, hi]: readonly [number, number], flag: string) => {
    if (v < lo || v > hi) warnings.push(`${flag} ${v} is outside the recommended range ${lo}-${hi}; running anyway.`);
  };
  out(o.batchSize, RANGES.batchSize, '--batch-size');
  out(o.epochs, RANGES.epochs, '--epochs');
  out(o.lr, RANGES.lr, '--lr');
  return warnings;
}
