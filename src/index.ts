/**
 * mobilegrad: tensors, autograd and hand-written WGSL kernels on WebGPU, in Node and the browser.
 * `import * as mg from 'mobilegrad'`, then `await mg.init()`.
 */
export { init, getDevice, hasDevice, type DeviceReport, type InitOptions } from './device/device.js';
export { MobilegradError, GPUExecutionError } from './device/errors.js';
export { Tensor, type GradNode } from './tensor/tensor.js';
export type { DType } from './tensor/dtype.js';
export { tensor, zeros, ones, full, randn, uniform, type TensorOptions } from './tensor/create.js';
export { seed, Rng } from './tensor/random.js';
export { tidy, keep } from './tensor/scope.js';
export { noGrad, isGradEnabled, attach } from './autograd/graph.js';
export { gradcheck, type GradcheckOptions, type GradcheckReport } from './autograd/gradcheck.js';
export { defineKernel, declaredKernels, grid1d, gridFor, type KernelSpec, Kernel } from './kernel/define-kernel.js';
export { runKernel, runKernel1, type OutputSpec } from './kernel/run-kernel.js';
export type { KernelCost, Grid, Uniforms } from './kernel/define-kernel.js';
export {
  defineOp, declaredOps, type Op, type OpSpec, type OpKernel, type OpAttrs, type OpArgs, type OpContext,
  type TensorInfo, type BackwardRule, type BackwardContext, type OpBenchShape,
} from './ops/define-op.js';
export * from './ops/index.js';
export * from './optim/index.js';
export * from './profile/index.js';

import { getDevice } from './device/device.js';

/** Submits queued GPU work and waits for it; rethrows any GPU error. */
export async function sync(): Promise<void> {
  await getDevice().sync();
}

/** Live buffers and bytes held by tensors, pool size, dispatch and submit counts. */
export function memoryStats() {
  return getDevice().stats();
}

export * as nn from './nn/index.js';
export * as models from './models/index.js';
export { loadWeights, loadPyTorchState, exportPyTorchState, type LoadReport } from './models/weights.js';

// The platform-neutral trainer pieces: the Node trainer and the browser page (web/) share them.
export { TrainingRun, DivergedError, type LoopConfig, type StepInfo, type EpochMetrics } from './train/loop.js';
export { evaluate, predictProbabilities, type EvalResult, type ImageSet } from './train/evaluate.js';
export { encodeModel, decodeModel, decodeAnyModel, parseModelConfig, makeModelConfig, MODEL_WEIGHTS, MODEL_CONFIG, type ModelConfig } from './train/model-format.js';
export { bestEpoch, isImprovement, shouldStopEarly } from './train/best-epoch.js';
export { classificationMetrics, topKAccuracy, type ClassificationMetrics, type ClassMetrics, type AveragedMetrics } from './train/metrics.js';
export { lrFind, type LrFindOptions, type LrFindResult } from './train/lr-find.js';
export { balancedClassWeights } from './train/class-weights.js';
export { trainerParamGroups, defaultHeadEpochs, type FineTuneConfig } from './train/fine-tune.js';
export { DEFAULTS as trainDefaults, RANGES as trainRanges, checkOptions, type TrainOptions } from './train/options.js';
export { recommendRecipe, type Recipe, type AugmentationLevel } from './data/recipe.js';
export { stratifiedSplit } from './data/split.js';
export { resizeRgb, centerSquare, RESIZE_MODES, type ResizeMode } from './data/resize.js';
export { UsageError } from './data/usage-error.js';
// int8 post-training quantization, platform-neutral (the CLI's `train --quantize` wraps it with folders).
export { quantizeModel, pickCalibration, DEFAULT_CALIBRATION_IMAGES } from './quant/ptq.js';
export { Int8Model } from './quant/int8-model.js';
export { encodeInt8Weights } from './quant/int8-format.js';
export { argmaxRows, compareTop1, type Agreement } from './quant/compare.js';
export { DEFAULT_RANGE_METHOD, type RangeMethod } from './quant/calibrate.js';
export { quantizationAwareTraining, type QatOptions } from './quant/qat.js';
/** int8 kernels use dot4I8Packed where the adapter has it; `setInt8Path('fallback')` forces the unpacking path. */
export { setInt8Path, int8Path, type Int8Path } from '../kernels/int8-path.js';
