/**
 * The Node entry point: the whole library (src/index.ts) plus what needs the file system:
 * the trainer, model folders, image-folder datasets.
 */
export * from './index.js';
export { train, type TrainEvents, type TrainSummary, type EpochMetrics, type StepInfo } from './train/trainer.js';
export { DEFAULTS as trainDefaults, type TrainOptions } from './train/options.js';
export { loadModel, saveModel, makeModelConfig, type ModelConfig } from './train/model-files.js';
export { evaluate, predictProbabilities, type EvalResult } from './train/evaluate.js';
export { loadImageFolder, type LoadedDataset } from './data/dataset.js';
export { decodeImageFile } from './data/decode-image-file.js';
export { inspectImageFolder, type InspectedFolder } from './data/inspect-folder.js';
export { checkDataset, checkWarnings, formatCheck, type DatasetCheck, type CheckInput, type DuplicateFinding } from './data/dataset-check.js';
// ONNX export (protobufjs reads the file system, so Node only): graphs as bytes, and the checked export `mobilegrad export` runs.
export { floatOnnx, qdqOnnx, ONNX_INPUT, ONNX_OUTPUT } from './export/mobilenet-onnx.js';
export { exportOnnx, type ExportResult } from './export/export-onnx.js';
