/**
 * `train --quantize`: the int8 model of a finished run, in `<run>/int8/`: calibrated on training
 * images, compared with the float model on the validation images, self-checked like
 * `mobilegrad quantize` (src/quant/pipeline.ts).
 */
import { join } from 'node:path';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import type { ImageSet } from '../train/evaluate.js';
import type { ModelConfig } from '../train/model-format.js';
import { quantizeToFolder, type QuantizeSummary } from './pipeline.js';
import { DEFAULT_CALIBRATION_IMAGES, pickCalibration } from './ptq.js';

/** Folder of the int8 model inside a training run's folder. */
export const INT8_SUBDIR = 'int8';

/** What the training summary reports about the int8 model. */
export interface Int8RunSummary {
  outDir: string;
  bytes: number;
  floatAccuracy: number;
  int8Accuracy: number;
  agreement: number;
  images: number;
  /** When quantization-aware training ran: the post-training accuracy it improved on. */
  qat?: { epochs: number; ptqAccuracy: number };
}

export async function quantizeAfterTraining(
  model: MobileNetV3Small, config: ModelConfig, set: ImageSet, trainIdx: readonly number[], valIdx: readonly number[], runDir: string,
  o: { batchSize: number; seed: number; qatEpochs?: number },
  log: (line: string) => void,
): Promise<Int8RunSummary> {
  const calibIdx = pickCalibration(set.labels, trainIdx, DEFAULT_CALIBRATION_IMAGES, o.seed);
  const compareIdx = valIdx.length ? valIdx : calibIdx;
  if (!valIdx.length) log('note: no validation images: float and int8 are compared on the calibration images');
  const s: QuantizeSummary = await quantizeToFolder({
    model, config, set, calibIdx, valIdx: compareIdx, outDir: join(runDir, INT8_SUBDIR), batchSize: o.batchSize, log, qatEpochs: o.qatEpochs, qatIdx: trainIdx, seed: o.seed,
  });
  return {
    outDir: s.outDir, bytes: s.int8Bytes, floatAccuracy: s.compare.accuracyA, int8Accuracy: s.compare.accuracyB, agreement: s.compare.agreement, images: s.compare.count,
    ...(s.qat ? { qat: { epochs: s.qat.epochs, ptqAccuracy: s.qat.ptqAccuracy } } : {}),
  };
}
