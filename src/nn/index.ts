/** Layers and the Module base class. */
export { Module, Sequential, type ParamLayout, type ForwardHook } from './module.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export { BatchNorm2d, type BatchNormOptions } from './batchnorm.js';
export { Activation, Linear, Dropout, SqueezeExcitation } from './layers.js';
export { saveStateDict, loadStateDict, type StateDictLoadReport, type LoadStateDictOptions } from './state-dict.js';
