/**
 * Quantizing a trained model in Node, as `mobilegrad quantize` and `train --quantize` do it:
 * calibrate and quantize, compare float and int8 on validation images (accuracy, agreement per
 * class, per-layer SQNR), write the int8 model folder atomically, read it back and check that
 * the written model answers exactly as the one in memory, and refuse a drop beyond tolerance.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MobilegradError } from '../device/errors.js';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import { predictProbabilities, type ImageSet } from '../train/evaluate.js';
import { loadModel } from '../train/model-files.js';
import { MODEL_CONFIG, MODEL_WEIGHTS, type ModelConfig } from '../train/model-format.js';
import { DEFAULT_RANGE_METHOD, type RangeMethod } from './calibrate.js';
import { agreementLines, argmaxRows, compareTop1, type Agreement } from './compare.js';
import { encodeInt8Weights } from './int8-format.js';
import { Int8Model } from './int8-model.js';
import { layerSqnr, quantizeModel, type LayerSqnr } from './ptq.js';
import { quantizationAwareTraining } from './qat.js';
import { quantizeNet } from './quantize.js';

export interface QuantizeJob {
  model: MobileNetV3Small;
  config: ModelConfig;
  set: ImageSet;
  calibIdx: readonly number[];
  valIdx: readonly number[];
  outDir: string;
  method?: RangeMethod;
  batchSize?: number;
  /** Largest accepted int8 accuracy loss, in points (1.0). */
  maxDrop?: number;
  /** Images for the SQNR table (64). */
  sqnrImages?: number;
  /** Quantization-aware training epochs, run when post-training quantization loses more than maxDrop (0: never). */
  qatEpochs?: number;
  /** Training images for QAT (default: the calibration images). */
  qatIdx?: readonly number[];
  seed?: number;
  log?: (line: string) => void;
}

export interface QuantizeSummary {
  outDir: string;
  method: RangeMethod;
  calibrationImages: number;
  floatBytes: number;
  int8Bytes: number;
  compare: Agreement;
  sqnr: LayerSqnr[];
  /** Top-1 agreement of the model read back from disk with the one in memory (must be 1). */
  reloadAgreement: number;
  /** When QAT ran: the post-training result it replaced, and its epochs. */
  qat?: { epochs: number; ptqAccuracy: number; ptqAgreement: number };
}

/** Bytes of a float32 model's files (its safetensors at 4 bytes a value, plus config). */
async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return NaN;
  }
}

export function sqnrLines(rows: LayerSqnr[]): string[] {
  const w = Math.max(...rows.map((r) => r.name.length));
  const lines = [`  ${'tensor'.padEnd(w)}  ${'SQNR dB'.padStart(8)}  ${'scale'.padStart(10)}  zero point`];
  for (const r of rows) lines.push(`  ${r.name.padEnd(w)}  ${(Number.isFinite(r.sqnrDb) ? r.sqnrDb.toFixed(1) : 'exact').padStart(8)}  ${r.scale.toPrecision(4).padStart(10)}  ${String(r.zeroPoint).padStart(10)}`);
  return lines;
}

export async function quantizeToFolder(job: QuantizeJob, floatModelDir?: string): Promise<QuantizeSummary> {
  const log = job.log ?? (() => {});
  const method = job.method ?? DEFAULT_RANGE_METHOD;
  const bs = job.batchSize ?? 32;
  const maxDrop = job.maxDrop ?? 1.0;
  // Evaluation semantics: BatchNorm's running statistics (what folding uses), no dropout.
  const wasTraining = job.model.training;
  job.model.eval();
  log(`calibrating on ${job.calibIdx.length} images (${method} ranges)...`);
  const ptq = await quantizeModel(job.model, job.set, job.calibIdx, { method, batchSize: bs });
  const folded = ptq.folded;
  let net = ptq.net;
  let int8 = new Int8Model(net);
  try {
    const k = job.config.numClasses;
    const labels = Int32Array.from(job.valIdx, (i) => job.set.labels[i]!);
    const pf = argmaxRows(await predictProbabilities(job.model, job.set, job.valIdx, bs), k);
    let pq = argmaxRows(await predictProbabilities(int8, job.set, job.valIdx, bs), k);
    let compare = compareTop1(pf, pq, labels, k);
    let qat: QuantizeSummary['qat'];
    const ptqDrop = dropPoints(compare);
    if (ptqDrop > maxDrop && (job.qatEpochs ?? 0) > 0) {
      log(`post-training int8 accuracy ${(100 * compare.accuracyB).toFixed(2)}% is ${ptqDrop.toFixed(2)} points below float32: quantization-aware training for ${job.qatEpochs} epoch(s)...`);
      const tuned = await quantizationAwareTraining(folded, net.activations, job.set, job.qatIdx ?? job.calibIdx, {
        epochs: job.qatEpochs!, batchSize: bs, seed: job.seed, onEpoch: (e, l) => log(`  QAT epoch ${e}: training loss ${l.toFixed(4)}`),
      });
      qat = { epochs: job.qatEpochs!, ptqAccuracy: compare.accuracyB, ptqAgreement: compare.agreement };
      net = quantizeNet(tuned, net.activations);
      int8.release();
      int8 = new Int8Model(net);
      pq = argmaxRows(await predictProbabilities(int8, job.set, job.valIdx, bs), k);
      compare = compareTop1(pf, pq, labels, k);
      log(`after QAT: int8 accuracy ${(100 * compare.accuracyB).toFixed(2)}% (post-training ${(100 * qat.ptqAccuracy).toFixed(2)}%)`);
    }
    const sqnr = await layerSqnr(folded, int8, job.set, job.valIdx.slice(0, job.sqnrImages ?? 64), bs);

    await mkdir(job.outDir, { recursive: true });
    const { weights, info } = encodeInt8Weights(net, { method, images: job.calibIdx.length });
    const config: ModelConfig = {
      ...job.config, precision: 'int8', quantization: info,
      training: { ...job.config.training, int8: { floatAccuracy: compare.accuracyA, int8Accuracy: compare.accuracyB, agreement: compare.agreement, validationImages: compare.count, ...(qat ? { qat } : {}) } },
    };
    await writeFileAtomic(join(job.outDir, MODEL_WEIGHTS), weights);
    await writeFileAtomic(join(job.outDir, MODEL_CONFIG), JSON.stringify(config, null, 2) + '\n');

    // Self-check: the folder as written must answer exactly as the model in memory.
    const back = await loadModel(job.outDir);
    const pr = argmaxRows(await predictProbabilities(back.model, job.set, job.valIdx, bs), k);
    back.model.release();
    const reload = compareTop1(pq, pr, labels, k);
    if (reload.agreement !== 1) throw new MobilegradError(`the int8 model written to ${job.outDir} answers differently from the one in memory on ${Math.round((1 - reload.agreement) * reload.count)} of ${reload.count} images: the file is wrong`);

    const summary: QuantizeSummary = {
      outDir: job.outDir,
      method,
      calibrationImages: job.calibIdx.length,
      floatBytes: floatModelDir ? await fileSize(join(floatModelDir, MODEL_WEIGHTS)) : NaN,
      int8Bytes: weights.byteLength,
      compare,
      sqnr,
      reloadAgreement: reload.agreement,
      ...(qat ? { qat } : {}),
    };
    log('');
    log('per-tensor signal-to-quantization-noise ratio (int8 vs float, higher is better):');
    for (const l of sqnrLines(sqnr)) log(l);
    log('');
    for (const l of agreementLines(compare, job.config.classNames, 'float32', 'int8')) log(l);
    log('');
    log(`int8 model: ${job.outDir} (${(weights.byteLength / 1e6).toFixed(2)} MB${Number.isFinite(summary.floatBytes) ? `; float32 ${(summary.floatBytes / 1e6).toFixed(2)} MB` : ''}); read back and checked: identical answers on ${reload.count} images`);
    const drop = dropPoints(compare);
    if (drop > maxDrop) {
      throw new MobilegradError(`int8 accuracy ${(100 * compare.accuracyB).toFixed(2)}% is ${drop.toFixed(2)} points below float32 ${(100 * compare.accuracyA).toFixed(2)}% (tolerance ${maxDrop}: --max-drop); the model is in ${job.outDir}, but ${qat ? 'try more --qat-epochs' : 'try quantization-aware training (--qat-epochs 2)'} or another --method`);
    }
    return summary;
  } finally {
    int8.release();
    if (wasTraining) job.model.train();
  }
}

/**
 * Accuracy lost from A to B in percentage points, rounded to 1e-9 so that a drop of exactly the
 * tolerance passes (100 * (0.616 - 0.606) is 1.0000000000000009 in floating point). @internal
 */
export function dropPoints(c: { accuracyA: number; accuracyB: number }): number {
  return Math.round(1e11 * (c.accuracyA - c.accuracyB)) / 1e9;
}
