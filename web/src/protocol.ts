/**
 * Messages between the page (main.ts) and the training worker (worker.ts). The worker owns the
 * GPU, the decoded images and the model; the page owns the screen.
 */
import type { AugmentationLevel, EpochMetrics, ModelConfig, StepInfo } from '../../src/index.js';

/** One image file chosen by the user, with its class. */
export interface LabelledFile {
  file: File;
  /** Path inside the chosen folder, for messages. */
  path: string;
  label: number;
}

/** A file that is not used, and why. */
export interface Skipped {
  path: string;
  reason: string;
}

/** Everything a run needs to start (and to be resumed after a reload). */
export interface RunSettings {
  classes: string[];
  imageSize: number;
  batchSize: number;
  epochs: number;
  lr: number;
  valSplit: number;
  augmentation: AugmentationLevel;
  seed: number;
  labelSmoothing: number;
  weightDecay: number;
  bnMomentum: number;
  bnRecalibrate: boolean;
  /** int8 post-training quantization after training (the CLI's --quantize). */
  quantize: boolean;
}

/** An image of the validation set the model got wrong, with its 8-bit pixels. */
export interface Misclassified {
  path: string;
  trueClass: number;
  predicted: number;
  confidence: number;
  size: number;
  rgb: Uint8Array;
}

/** Evaluation shown after each epoch and at the end. */
export interface EvalView {
  accuracy: number;
  loss: number;
  count: number;
  confusion: number[][];
  perClassAccuracy: number[];
  misclassified: Misclassified[];
}

/** The final metrics: what the page prints as JSON when training is done. */
export interface FinalMetrics {
  epochs: number;
  epochs_planned: number;
  stopped: 'completed' | 'stopped';
  val_accuracy: number | null;
  val_loss: number | null;
  train_loss: number | null;
  train_accuracy: number | null;
  images_per_second: number;
  seconds: number;
  train_images: number;
  val_images: number;
  image_size: number;
  batch_size: number;
  learning_rate: number;
  classes: string[];
  per_class_accuracy: Record<string, number | null>;
  /** The epoch whose weights the model holds: the best validation accuracy, as the CLI saves. */
  saved_epoch: number | null;
  /** With quantize: the int8 model's size and its accuracy next to the float model's. */
  int8: Int8Result | null;
  history: EpochMetrics[];
}

export interface Int8Result {
  bytes: number;
  float_accuracy: number;
  int8_accuracy: number;
  agreement: number;
  images: number;
}

/** A saved run found in the browser's storage. */
export interface SavedRunInfo {
  savedAt: string;
  settings: RunSettings;
  /** Epochs finished so far. */
  epoch: number;
  imageCount: number;
  finished: boolean;
  history: EpochMetrics[];
}

export interface Prediction {
  name: string;
  top: { className: string; probability: number }[];
  error?: string;
}

export type ToWorker =
  | { type: 'init' }
  | { type: 'decode'; job: number; files: LabelledFile[]; classes: string[]; imageSize: number }
  | { type: 'train'; settings: RunSettings }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'check-saved' }
  | { type: 'resume-saved' }
  | { type: 'discard-saved' }
  | { type: 'export-model'; precision: 'f32' | 'int8' }
  | { type: 'load-model'; weights: Uint8Array; config: string }
  | { type: 'predict'; files: File[] };

export type FromWorker =
  | { type: 'ready'; adapter: string; features: string[] }
  | { type: 'no-gpu'; message: string }
  | { type: 'decode-progress'; job: number; done: number; total: number }
  | { type: 'decoded'; job: number; imageSize: number; perClass: number[]; skipped: Skipped[]; bytes: number }
  | { type: 'phase'; text: string }
  | { type: 'started'; settings: RunSettings; trainImages: number; valImages: number; stepsPerEpoch: number; resumedAt: number; history: EpochMetrics[] }
  | { type: 'step'; info: StepInfo }
  | { type: 'epoch'; metrics: EpochMetrics; eval: EvalView | null; memory: MemoryView }
  | { type: 'checkpointed'; epoch: number; step: number; bytes: number; where: string; memory: MemoryView }
  | { type: 'paused'; epoch: number; step: number }
  | { type: 'resumed' }
  | { type: 'finished'; metrics: FinalMetrics; eval: EvalView | null }
  | { type: 'saved-run'; info: SavedRunInfo | null; error?: string }
  | { type: 'model-files'; precision: 'f32' | 'int8'; weights: Uint8Array; config: string }
  | { type: 'model-loaded'; config: ModelConfig; source: string }
  | { type: 'predictions'; results: Prediction[] }
  | { type: 'error'; context: string; message: string };

/** Memory the run holds: 8-bit images in the worker and GPU buffers. */
export interface MemoryView {
  imageBytes: number;
  gpuBytes: number;
  /** The most GPU memory the buffer pool has held at once. */
  peakGpuBytes: number;
}
