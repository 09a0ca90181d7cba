import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, randomData } from '../support/check.js';

/** float64 reference of shaders/augment.wgsl. */
function reference(bytes: Uint8Array, params: Float32Array, n: number, S: number, O: number): Float64Array {
  const out = new Float64Array(n * O * O * 3);
  const mean = mg.IMAGENET_MEAN;
  const std = mg.IMAGENET_STD;
  const px = (b: number, y: number, x: number, c: number) => bytes[((b * S + y) * S + x) * 3 + c]! / 255;
  for (let b = 0; b < n; b++) {
    const [x0, y0, w, h, flip, br, ct, sat] = Array.from(params.subarray(b * 8, b * 8 + 8));
    for (let oy = 0; oy < O; oy++)
      for (let ox = 0; ox < O; ox++) {
        let u = (ox + 0.5) / O;
        if (flip! > 0.5) u = 1 - u;
        const v = (oy + 0.5) / O;
        const sx = Math.min(Math.max(x0! + u * w! - 0.5, 0), S - 1);
        const sy = Math.min(Math.max(y0! + v * h! - 0.5, 0), S - 1);
        const xa = Math.floor(sx), ya = Math.floor(sy);
        const xb = Math.min(xa + 1, S - 1), yb = Math.min(ya + 1, S - 1);
        const fx = sx - xa, fy = sy - ya;
        const rgb = [0, 1, 2].map((c) => {
          const top = px(b, ya, xa, c) * (1 - fx) + px(b, ya, xb, c) * fx;
          const bot = px(b, yb, xa, c) * (1 - fx) + px(b, yb, xb, c) * fx;
          return ((top * (1 - fy) + bot * fy) * br! - 0.5) * ct! + 0.5;
        });
        const luma = 0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!;
        for (let c = 0; c < 3; c++) {
          const val = Math.min(Math.max(luma + (rgb[c]! - luma) * sat!, 0), 1);
          out[((b * O + oy) * O + ox) * 3 + c] = (val - mean[c]!) / std[c]!;
        }
      }
  }
  return out;
}

export default cases('augment', [
  [
    'crop, flip, jitter and normalisation against a float64 reference (odd sizes, batch 3)',
    async () => {
      const n = 3, S = 13, O = 11;
      const bytes = Uint8Array.from(randomData(n * S * S * 3, 41, 0, 255.99), (v) => Math.floor(v));
      const params = new Float32Array([0, 0, 13, 13, 0, 1, 1, 1, 2.5, 1.25, 8.5, 9.75, 1, 1.2, 0.8, 1.3, 4, 3, 5, 6, 1, 0.7, 1.1, 0.5]);
      const img = mg.uploadImages(bytes, n, S);
      const y = mg.prepareBatch(img, params, n, S, O);
      expectClose(await y.toArray(), reference(bytes, params, n, S, O), 'augment', 1e-5, 1e-4);
      img.release();
      y.release();
    },
  ],
  [
    'crops reaching the right and bottom edges (clamped taps, the buffer\'s last bytes), upscaling, partial row segments, batch 1',
    async () => {
      for (const [n, S, O, params] of [
        // x0 + w past the image (the last column's two taps are one pixel), flipped; a full image.
        [2, 7, 16, new Float32Array([3, 2, 5, 5.5, 1, 0.9, 1.2, 0.7, 0, 0, 7, 7, 0, 1, 1, 1])],
        // Batch 1, 5 outputs (one partial segment), the crop at the bottom-right corner.
        [1, 9, 5, new Float32Array([6.5, 6.5, 3, 3, 0, 1.1, 0.9, 1.4])],
      ] as [number, number, number, Float32Array][]) {
        const bytes = Uint8Array.from(randomData(n * S * S * 3, 43 + S, 0, 255.99), (v) => Math.floor(v));
        const img = mg.uploadImages(bytes, n, S);
        const y = mg.prepareBatch(img, params, n, S, O);
        expectClose(await y.toArray(), reference(bytes, params, n, S, O), `augment ${n}x${S} -> ${O}`, 1e-5, 1e-4);
        img.release();
        y.release();
      }
    },
  ],
]);
