/** Optimizers: fused in-place WGSL updates, no readback. */
export { Optimizer, type ParamGroup, type ResolvedParamGroup, type OptimizerOptions, type OptimizerStateDict, type ParamState } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { LRScheduler, schedules, type Schedule, type SchedulerState } from './schedulers.js';
export { clipGradNorm } from './clip-grad.js';
