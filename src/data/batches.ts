import { Rng } from '../tensor/random.js';
import { shuffleInPlace } from './split.js';

/** ImageNet per-channel mean (RGB, on the 0-1 scale) used to normalise inputs. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet per-channel standard deviation (RGB, on the 0-1 scale). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * Shuffles `indices` with `seed` and cuts them into batches of `batchSize`.
 * The last, shorter batch is dropped when `dropLast` is set (and kept otherwise). The same seed gives
 * the same batches; use a different seed per epoch (e.g. `seed + epoch`).
 */
export function shuffledBatches(indices: ArrayLike<number>, batchSize: number, seed: number, dropLast: boolean): number[][] {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`shuffledBatches: batchSize must be a positive integer, got ${batchSize}`);
  const order = shuffleInPlace(Array.from(indices), new Rng(seed));
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.slice(i, i + batchSize);
    if (b.length < batchSize && dropLast) break;
    batches.push(b);
  }
  return batches;
}

/** Lookup table: byte value -> normalised float, per channel (3 x 256). */
const NORM_LUT = (() => {
  const t = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) t[c * 256 + v] = (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
  return t;
})();

/**
 * Gathers the images `batch` from a dataset buffer (`imageSize x imageSize x 3` uint8 each, NHWC) into a
 * float32 NHWC batch, normalised per channel as `(v / 255 - mean) / std` with the ImageNet constants.
 * @param out optional destination of at least `batch.length * imageSize^2 * 3` floats, reused across steps.
 */
export function assembleBatch(images: Uint8Array, imageSize: number, batch: ArrayLike<number>, out?: Float32Array): Float32Array {
  const stride = imageSize * imageSize * 3;
  const need = batch.length * stride;
  const dst = out ?? new Float32Array(need);
  if (dst.length < need) throw new RangeError(`assembleBatch: output holds ${dst.length} floats, needs ${need}`);
  const count = Math.floor(images.length / stride);
  for (let b = 0; b < batch.length; b++) {
    const idx = batch[b];
    if (!(idx >= 0 && idx < count)) throw new RangeError(`assembleBatch: image index ${idx} out of range [0, ${count})`);
    const s = idx * stride, d = b * stride;
    for (let i = 0; i < stride; i += 3) {
      dst[d + i] = NORM_LUT[images[s + i]];
      dst[d + i + 1] = NORM_LUT[256 + images[s + i + 1]];
      dst[d + i + 2] = NORM_LUT[512 + images[s + i + 2]];
    }
  }
  return dst;
}
