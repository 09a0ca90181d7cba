/**
 * A trained model on disk: `model.safetensors` (torchvision names, PyTorch layouts, float32: it
 * loads in PyTorch with `load_state_dict` too) and `config.json` (classes, image size,
 * normalisation). Written atomically: a temporary file, then a rename.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MobilegradError } from '../device/errors.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { MobileNetV3Small, mobilenetV3Small } from '../models/mobilenet-v3.js';
import { exportPyTorchState, loadPyTorchState } from '../models/weights.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../ops/augment.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';

export const MODEL_WEIGHTS = 'model.safetensors';
export const MODEL_CONFIG = 'config.json';

/** What config.json holds. */
export interface ModelConfig {
  format: 'mobilegrad-model';
  version: 1;
  architecture: 'mobilenet_v3_small';
  numClasses: number;
  classNames: string[];
  imageSize: number;
  widthMultiplier: number;
  dropout: number;
  normalization: { mean: number[]; std: number[] };
  /** Weights are in PyTorch layout under torchvision's names. */
  layout: 'pytorch';
  precision: 'f32';
  /** Free-form facts about how it was trained (epochs, accuracy...). */
  training?: Record<string, unknown>;
}

export function makeModelConfig(model: MobileNetV3Small, classNames: string[], imageSize: number, training?: Record<string, unknown>): ModelConfig {
  return {
    format: 'mobilegrad-model',
    version: 1,
    architecture: 'mobilenet_v3_small',
    numClasses: model.numClasses,
    classNames,
    imageSize,
    widthMultiplier: model.options.widthMultiplier,
    dropout: model.options.dropout,
    normalization: { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] },
    layout: 'pytorch',
    precision: 'f32',
    training,
  };
}

/** Writes the model folder (weights first, config last, each atomically). Returns the bytes written. */
export async function saveModel(dir: string, model: MobileNetV3Small, config: ModelConfig): Promise<number> {
  const bytes = serializeSafetensors(await exportPyTorchState(model), { format: 'pt', producer: 'mobilegrad' });
  await writeFileAtomic(join(dir, MODEL_WEIGHTS), bytes);
  const json = JSON.stringify(config, null, 2) + '\n';
  await writeFileAtomic(join(dir, MODEL_CONFIG), json);
  return bytes.byteLength + json.length;
}

/** Reads a model folder written by {@link saveModel} (the GPU must be initialised). */
export async function loadModel(dir: string): Promise<{ model: MobileNetV3Small; config: ModelConfig }> {
  let config: ModelConfig;
  try {
    config = JSON.parse(await readFile(join(dir, MODEL_CONFIG), 'utf8')) as ModelConfig;
  } catch (e) {
    throw new MobilegradError(`cannot read ${join(dir, MODEL_CONFIG)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found: --model must be a folder written by `mobilegrad train`' : (e as Error).message}`);
  }
  if (config.format !== 'mobilegrad-model') throw new MobilegradError(`${join(dir, MODEL_CONFIG)} is not a mobilegrad model config`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(dir, MODEL_WEIGHTS)));
  } catch {
    throw new MobilegradError(`cannot read ${join(dir, MODEL_WEIGHTS)}: the model folder is incomplete`);
  }
  const model = mobilenetV3Small({ numClasses: config.numClasses, widthMultiplier: config.widthMultiplier, dropout: config.dropout });
  const report = loadPyTorchState(model, parseSafetensors(bytes, join(dir, MODEL_WEIGHTS)).tensors, join(dir, MODEL_WEIGHTS));
  if (report.missing.length || report.reinitialized.length) {
    throw new MobilegradError(`${join(dir, MODEL_WEIGHTS)} does not match its config: missing ${[...report.missing, ...report.reinitialized].slice(0, 3).join(', ')}`);
  }
  model.eval();
  return { model, config };
}
