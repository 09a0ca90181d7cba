/** Per-sample augmentation parameters (crop box, flip, jitter) drawn on the CPU, applied on the GPU. */
import type { AugmentationLevel } from '../data/recipe.js';
import { AUGMENT_PARAMS } from '../ops/augment.js';
import type { Rng } from '../tensor/random.js';

/** Strength of each augmentation level: crop area range and colour jitter amplitude. */
export const AUGMENTATION: Record<AugmentationLevel | 'none', { minArea: number; jitter: number; flip: boolean }> = {
  none: { minArea: 1, jitter: 0, flip: false },
  standard: { minArea: 0.35, jitter: 0.1, flip: true },
  heavy: { minArea: 0.25, jitter: 0.2, flip: true },
  max: { minArea: 0.15, jitter: 0.3, flip: true },
};

/**
 * Random resized crop (area fraction in [minArea, 1], aspect ratio in [3/4, 4/3], as torchvision's
 * RandomResizedCrop), horizontal flip with probability 1/2, brightness / contrast / saturation
 * factors in [1 - jitter, 1 + jitter].
 */
export function randomAugmentParams(n: number, size: number, level: AugmentationLevel | 'none', rng: Rng): Float32Array {
  const a = AUGMENTATION[level];
  const out = new Float32Array(n * AUGMENT_PARAMS);
  for (let i = 0; i < n; i++) {
    let w = size;
    let h = size;
    if (a.minArea < 1) {
      const area = (a.minArea + (1 - a.minArea) * rng.next()) * size * size;
      const logRatio = Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rng.next();
      const ratio = Math.exp(logRatio);
      w = Math.min(size, Math.sqrt(area * ratio));
      h = Math.min(size, Math.sqrt(area / ratio));
    }
    const x0 = (size - w) * rng.next();
    const y0 = (size - h) * rng.next();
    const flip = a.flip && rng.next() < 0.5 ? 1 : 0;
    const j = () => 1 + a.jitter * (2 * rng.next() - 1);
    out.set([x0, y0, w, h, flip, j(), j(), j()], i * AUGMENT_PARAMS);
  }
  return out;
}
