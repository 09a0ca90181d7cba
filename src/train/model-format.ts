/**
 * The trained-model format, platform-neutral: `model.safetensors` (torchvision names, PyTorch
 * layouts, float32: PyTorch's `load_state_dict` reads it) and `config.json` (classes, image size,
 * normalisation). src/train/model-files.ts reads and writes them as a folder in Node; the browser
 * page offers them as downloads.
 */
import { MobilegradError } from '../device/errors.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { MobileNetV3Small, mobilenetV3Small } from '../models/mobilenet-v3.js';
import { exportPyTorchState, loadPyTorchState } from '../models/weights.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../ops/augment.js';
import { decodeInt8Weights, type Int8Info } from '../quant/int8-format.js';
import { Int8Model } from '../quant/int8-model.js';

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
  /** 'int8': int8 weights, int32 biases and f32 scales; `quantization` says how to read them (docs/quantization.md). */
  precision: 'f32' | 'int8';
  /** int8 models: every activation's scale and zero point, and the arithmetic. */
  quantization?: Int8Info;
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

/** The two files of a model: safetensors bytes and config JSON text. */
export async function encodeModel(model: MobileNetV3Small, config: ModelConfig): Promise<{ weights: Uint8Array; config: string }> {
  const weights = serializeSafetensors(await exportPyTorchState(model), { format: 'pt', producer: 'mobilegrad' });
  return { weights, config: JSON.stringify(config, null, 2) + '\n' };
}

/** Parses config JSON text, checking it is a mobilegrad model config. */
export function parseModelConfig(text: string, what = MODEL_CONFIG): ModelConfig {
  let config: ModelConfig;
  try {
    config = JSON.parse(text) as ModelConfig;
  } catch {
    throw new MobilegradError(`${what} is not JSON`);
  }
  if (config.format !== 'mobilegrad-model') throw new MobilegradError(`${what} is not a mobilegrad model config`);
  return config;
}

/** Builds the model a config describes and loads its weights (the GPU must be initialised). */
export function decodeModel(weights: Uint8Array, config: ModelConfig, what = MODEL_WEIGHTS): MobileNetV3Small {
  const model = mobilenetV3Small({ numClasses: config.numClasses, widthMultiplier: config.widthMultiplier, dropout: config.dropout });
  const report = loadPyTorchState(model, parseSafetensors(weights, what).tensors, what);
  if (report.missing.length || report.reinitialized.length) {
    model.release();
    throw new MobilegradError(`${what} does not match its config: missing ${[...report.missing, ...report.reinitialized].slice(0, 3).join(', ')}`);
  }
  model.eval();
  return model;
}

/**
 * Builds the model a config describes, float or int8 (the GPU must be initialised): a
 * MobileNetV3Small for `precision: "f32"`, an {@link Int8Model} for `"int8"`.
 */
export function decodeAnyModel(weights: Uint8Array, config: ModelConfig, what = MODEL_WEIGHTS): MobileNetV3Small | Int8Model {
  if (config.precision === 'int8') {
    return new Int8Model(decodeInt8Weights(weights, config.quantization as Int8Info, { numClasses: config.numClasses, widthMultiplier: config.widthMultiplier }, what));
  }
  return decodeModel(weights, config, what);
}
