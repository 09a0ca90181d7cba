/** Parameter initialisation as torchvision's MobileNetV3 does it, from the seeded global generator. */
import { full, randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';

/** Kaiming normal, fan-out mode (std = sqrt(2 / fan_out)), as torchvision for conv weights. */
export function kaimingNormalFanOut(shape: number[], fanOut: number): Tensor {
  return keep(randn(shape, { std: Math.sqrt(2 / fanOut) }));
}

/** Normal(0, std): torchvision uses std 0.01 for Linear weights. */
export function normal(shape: number[], std: number): Tensor {
  return keep(randn(shape, { std }));
}

export function constant(shape: number[], value: number): Tensor {
  return keep(full(shape, value));
}
