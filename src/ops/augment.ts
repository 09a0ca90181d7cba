/**
 * Turns a batch of 8-bit RGB images into the network's input on the GPU: random resized crop,
 * flip and colour jitter from per-sample parameters, then mean/std normalisation. Not differentiable.
 */
import { augmentKernel } from '../../kernels/augment.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** ImageNet statistics (torchvision's weights were trained with these). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Number of floats per sample in the augmentation parameters. */
export const AUGMENT_PARAMS = 8;

/** Uploads `n` RGB images of `size`x`size` (NHWC uint8) as packed bytes for {@link prepareBatch}. */
export function uploadImages(bytes: Uint8Array, n: number, size: number): Tensor {
  if (bytes.length !== n * size * size * 3) throw new MobilegradError(`uploadImages: ${bytes.length} bytes for ${n} images of ${size}x${size}x3`);
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return tensor(words, [words.length], { dtype: 'u32' });
}

/** Identity parameters (no crop, flip or jitter): evaluation. */
export function identityParams(n: number, size: number): Float32Array {
  const p = new Float32Array(n * AUGMENT_PARAMS);
  for (let i = 0; i < n; i++) p.set([0, 0, size, size, 0, 1, 1, 1], i * AUGMENT_PARAMS);
  return p;
}

/**
 * Prepares a float32 NHWC batch [n, out, out, 3] from packed 8-bit images of `src`x`src`.
 * `params` holds AUGMENT_PARAMS floats per sample (see shaders/augment.wgsl).
 */
export function prepareBatch(images: Tensor, params: Float32Array, n: number, src: number, out: number, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Tensor {
  if (params.length !== n * AUGMENT_PARAMS) throw new MobilegradError(`prepareBatch: ${params.length} parameters for ${n} samples`);
  const crops = tensor(params, [n, AUGMENT_PARAMS]);
  const y = augmentImages(images, crops, n, src, out, mean, std);
  crops.release();
  return y;
}

/**
 * {@link prepareBatch} with the augmentation parameters already on the GPU ([n, AUGMENT_PARAMS]
 * f32): a recorded training step uploads them as a per-step value into a buffer it keeps.
 */
export function augmentImages(images: Tensor, crops: Tensor, n: number, src: number, out: number, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Tensor {
  if (crops.size !== n * AUGMENT_PARAMS) throw new MobilegradError(`augmentImages: ${crops.size} parameters for ${n} samples`);
  return runKernel1(augmentKernel, { pixels: images, crops }, { shape: [n, out, out, 3] }, {
    n, src, dst: out, m0: mean[0]!, m1: mean[1]!, m2: mean[2]!, s0: std[0]!, s1: std[1]!, s2: std[2]!,
  });
}
