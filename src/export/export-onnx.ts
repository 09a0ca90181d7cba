/**
 * `mobilegrad export --format onnx` in Node: writes the ONNX file (float32 for a float model, int8
 * QDQ for an int8 one), names its input and output in the model's config.json, and checks the
 * export against the source model on labelled images with onnxruntime-node: top-1 agreement
 * overall and per class, accuracy both ways, and (float32) the largest logit difference. A
 * disagreement beyond tolerance is an error.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { MobilegradError } from '../device/errors.js';
import { foldModel } from '../quant/fold.js';
import { agreementLines, argmaxRows, compareTop1, type Agreement } from '../quant/compare.js';
import { Int8Model } from '../quant/int8-model.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import type { Classifier, ImageSet } from '../train/evaluate.js';
import { MODEL_CONFIG, type ModelConfig } from '../train/model-format.js';
import { floatOnnx, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT, qdqOnnx } from './mobilenet-onnx.js';
import { modelLogits } from './model-logits.js';
import { loadOrt, onnxLogits } from './onnx-run.js';

/** Float32 export: largest |logit difference| relative to the largest |logit| of its image. */
export const FLOAT_LOGIT_TOLERANCE = 1e-4;
/** Least top-1 agreement of an export with its source model. */
export const MIN_AGREEMENT = { float32: 0.999, int8: 0.99 } as const;

export interface OnnxCheck {
  runtime: 'onnxruntime-node' | 'none';
  compare?: Agreement;
  /** float32 exports: the worst relative logit difference. */
  maxRelativeLogitDiff?: number;
}

export interface ExportResult {
  out: string;
  bytes: number;
  precision: 'float32' | 'int8-qdq';
  check: OnnxCheck;
}

/** Worst over images of max |a - b| / max |b| (per image). */
export function relativeLogitDiff(a: Float32Array, b: Float32Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < b.length / k; i++) {
    let scale = 0;
    let d = 0;
    for (let c = 0; c < k; c++) {
      scale = Math.max(scale, Math.abs(b[i * k + c]!));
      d = Math.max(d, Math.abs(a[i * k + c]! - b[i * k + c]!));
    }
    worst = Math.max(worst, d / Math.max(scale, 1e-12));
  }
  return worst;
}

/** The ONNX bytes of a loaded model. */
export async function onnxBytes(model: Classifier, config: ModelConfig, version: string): Promise<{ bytes: Uint8Array; precision: ExportResult['precision'] }> {
  const info = { imageSize: config.imageSize, classNames: config.classNames, version };
  if (model instanceof Int8Model) return { bytes: qdqOnnx(model.net, info), precision: 'int8-qdq' };
  return { bytes: floatOnnx(await foldModel(model), info), precision: 'float32' };
}

export async function exportOnnx(
  model: Classifier, config: ModelConfig, modelDir: string, out: string, check: { set: ImageSet; idx: number[] } | null, log: (l: string) => void, version = '0.1.0',
): Promise<ExportResult> {
  const { bytes, precision } = await onnxBytes(model, config, version);
  await writeFileAtomic(out, bytes);
  // config.json names the graph's input and output (read, amend, write atomically).
  const cfgPath = join(modelDir, MODEL_CONFIG);
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as ModelConfig & { onnx?: unknown };
  cfg.onnx = {
    file: dirname(resolve(out)) === resolve(modelDir) ? basename(out) : relative(resolve(modelDir), resolve(out)),
    opset: ONNX_OPSET,
    precision,
    input: { name: ONNX_INPUT, dtype: 'float32', shape: ['batch', config.imageSize, config.imageSize, 3], layout: 'NHWC', range: [0, 1], normalization: 'inside the graph' },
    output: { name: ONNX_OUTPUT, dtype: 'float32', shape: ['batch', config.numClasses], meaning: 'logits' },
  };
  await writeFileAtomic(cfgPath, JSON.stringify(cfg, null, 2) + '\n');
  log(`wrote ${out} (${(bytes.byteLength / 1e6).toFixed(2)} MB, ${precision}, opset ${ONNX_OPSET}); input '${ONNX_INPUT}' float32 [batch, ${config.imageSize}, ${config.imageSize}, 3] pixels in [0, 1], output '${ONNX_OUTPUT}' [batch, ${config.numClasses}]`);
  const result: ExportResult = { out, bytes: bytes.byteLength, precision, check: { runtime: 'none' } };
  if (!check) return result;
  const ort = await loadOrt();
  if (!ort) {
    log('note: onnxruntime-node is not installed, so the exported file was not run; install it (npm install onnxruntime-node) to check the export against the model');
    return result;
  }
  const k = config.numClasses;
  const ref = await modelLogits(model, check.set, check.idx);
  const got = await onnxLogits(ort, bytes, check.set, check.idx);
  const labels = Int32Array.from(check.idx, (i) => check.set.labels[i]!);
  const compare = compareTop1(argmaxRows(ref, k), argmaxRows(got, k), labels, k);
  result.check = { runtime: 'onnxruntime-node', compare };
  log(`checked with onnxruntime-node on ${check.idx.length} images:`);
  for (const l of agreementLines(compare, config.classNames, 'mobilegrad', 'onnx')) log(l);
  const min = precision === 'float32' ? MIN_AGREEMENT.float32 : MIN_AGREEMENT.int8;
  const d = relativeLogitDiff(got, ref, k);
  result.check.maxRelativeLogitDiff = d;
  if (precision !== 'float32') log(`largest logit difference: ${d.toExponential(2)} of the image's largest logit (int8: rounding may differ by one unit where the two runtimes order float operations differently)`);
  else {
    log(`largest logit difference: ${d.toExponential(2)} of the image's largest logit (tolerance ${FLOAT_LOGIT_TOLERANCE})`);
    if (!(d <= FLOAT_LOGIT_TOLERANCE)) throw new MobilegradError(`the exported float32 model's logits differ from mobilegrad's by up to ${d.toExponential(2)} (relative; tolerance ${FLOAT_LOGIT_TOLERANCE}): the export is wrong`);
  }
  if (compare.agreement < min) throw new MobilegradError(`the exported model agrees with mobilegrad's on ${(100 * compare.agreement).toFixed(2)}% of images (at least ${100 * min}% expected): the export is wrong`);
  return result;
}
