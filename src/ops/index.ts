/** Every differentiable op, by family. */
export { add, sub, mul, div, affine, sum, mean, sumTo, broadcastTo, reshape } from './elementwise.js';
export { activation, activationOp, relu, relu6, hswish, hsigmoid } from './activation.js';
export { softmax, softmaxCrossEntropy, type CrossEntropyOptions } from './loss.js';
export { dropout, type DropoutOptions } from './dropout.js';
export { matmul, pointwiseConv2d, linear, setGemmPath, type GemmPath, type MatmulOptions } from './matmul.js';
export { prepareBatch, uploadImages, identityParams, IMAGENET_MEAN, IMAGENET_STD, AUGMENT_PARAMS } from './augment.js';
export { batchNorm, type BatchNormOptions, type RunningStats } from './batchnorm.js';
export { globalAvgPool } from './pool.js';
export { conv2d, type Conv2dOptions } from './conv2d.js';
export { depthwiseConv2d } from './depthwise-conv2d.js';
export { convBnAct, convBnActScalesInput, convBnActSupports, type BnEpilogue, type ConvKind } from './conv-bn-act.js';
