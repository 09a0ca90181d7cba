/** A trained model as a folder in Node: model.safetensors and config.json, each written atomically. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MobilegradError } from '../device/errors.js';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import type { Int8Model } from '../quant/int8-model.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import { decodeAnyModel, encodeModel, MODEL_CONFIG, MODEL_WEIGHTS, parseModelConfig, type ModelConfig } from './model-format.js';

export { makeModelConfig, MODEL_CONFIG, MODEL_WEIGHTS, type ModelConfig } from './model-format.js';

/** Writes the model folder (weights first, config last). Returns the bytes written. */
export async function saveModel(dir: string, model: MobileNetV3Small, config: ModelConfig): Promise<number> {
  const files = await encodeModel(model, config);
  await writeFileAtomic(join(dir, MODEL_WEIGHTS), files.weights);
  await writeFileAtomic(join(dir, MODEL_CONFIG), files.config);
  return files.weights.byteLength + files.config.length;
}

/**
 * Reads a model folder written by {@link saveModel} or by `mobilegrad quantize` (the GPU must be
 * initialised): a float MobileNetV3Small, or an Int8Model when config.json says `precision: "int8"`.
 */
export async function loadModel(dir: string): Promise<{ model: MobileNetV3Small | Int8Model; config: ModelConfig }> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_CONFIG), 'utf8');
  } catch (e) {
    throw new MobilegradError(`cannot read ${join(dir, MODEL_CONFIG)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found: --model must be a folder written by `mobilegrad train`' : (e as Error).message}`);
  }
  const config = parseModelConfig(text, join(dir, MODEL_CONFIG));
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(dir, MODEL_WEIGHTS)));
  } catch {
    throw new MobilegradError(`cannot read ${join(dir, MODEL_WEIGHTS)}: the model folder is incomplete`);
  }
  return { model: decodeAnyModel(bytes, config, join(dir, MODEL_WEIGHTS)), config };
}
