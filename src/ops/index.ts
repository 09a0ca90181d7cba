/** Every differentiable op, by family. */
export { add, sub, mul, div, affine, sum, mean, sumTo, broadcastTo, reshape } from './elementwise.js';
export { activation, relu, relu6, hswish, hsigmoid } from './activation.js';
