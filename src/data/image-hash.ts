/**
 * Image fingerprints for duplicate detection: an exact pixel hash, and a perceptual hash (DCT pHash)
 * with a small grayscale thumbnail to confirm near matches.
 *
 * pHash: the image is squashed to 32x32 luma (area averaging), the 2-D DCT-II is taken, and the
 * 8x8 lowest frequencies are kept; each of the 63 non-DC coefficients gives one bit, set when it is
 * above their median (the DC bit is always 0). Re-encoding, resizing, mild blur, small brightness and
 * contrast changes move few bits; different pictures differ in about half of them.
 */
import { createHash } from 'node:crypto';
import { resizeRgb } from './resize.js';

/** Side of the grayscale thumbnail kept to confirm near-duplicates. */
export const THUMB_SIDE = 16;

/** What is kept of an image to find its duplicates. */
export interface ImageHashes {
  /** SHA-1 of the decoded pixels and their size: equal for pixel-identical images, whatever the file format. */
  pixelHash: string;
  /** 64-bit perceptual hash, 16 hex digits. */
  phash: string;
  /** THUMB_SIDE x THUMB_SIDE luma thumbnail (row-major bytes), base64. */
  thumb: string;
}

/** Luma (BT.601) of 8-bit RGB, as floats. */
function luma(rgb: Uint8Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  return out;
}

/** cos((2x + 1) u pi / 2N) for x < N, u < 8: the DCT-II basis of the low frequencies. */
const N = 32;
const BASIS = (() => {
  const b = new Float64Array(8 * N);
  for (let u = 0; u < 8; u++) for (let x = 0; x < N; x++) b[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return b;
})();

/** The 64-bit DCT pHash of an 8-bit RGB image, as 16 hex digits. */
export function perceptualHash(rgb: Uint8Array, width: number, height: number): string {
  const y = luma(resizeRgb(rgb, width, height, N, undefined, 'squash'), N * N);
  // Separable DCT of the 8x8 lowest frequencies: rows, then columns.
  const rows = new Float64Array(N * 8);
  for (let r = 0; r < N; r++) for (let u = 0; u < 8; u++) {
    let acc = 0;
    for (let x = 0; x < N; x++) acc += y[r * N + x]! * BASIS[u * N + x]!;
    rows[r * 8 + u] = acc;
  }
  const coef = new Float64Array(64);
  for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
    let acc = 0;
    for (let r = 0; r < N; r++) acc += rows[r * 8 + u]! * BASIS[v * N + r]!;
    coef[v * 8 + u] = acc;
  }
  const ac = Array.from(coef.subarray(1)).sort((a, b) => a - b);
  const median = (ac[30]! + ac[31]!) / 2;
  let hi = 0, lo = 0;
  for (let i = 1; i < 64; i++) {
    if (coef[i]! > median) {
      if (i < 32) hi |= 1 << (31 - i);
      else lo |= 1 << (63 - i);
    }
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** The THUMB_SIDE x THUMB_SIDE luma thumbnail (area-averaged, squashed). */
export function lumaThumbnail(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const y = luma(resizeRgb(rgb, width, height, THUMB_SIDE, undefined, 'squash'), THUMB_SIDE * THUMB_SIDE);
  return Uint8Array.from(y, (v) => Math.round(v));
}

/** All fingerprints of a decoded image. */
export function hashImage(rgb: Uint8Array, width: number, height: number): ImageHashes {
  const h = createHash('sha1');
  h.update(`${width}x${height}:`);
  h.update(rgb.subarray(0, width * height * 3));
  return {
    pixelHash: h.digest('hex'),
    phash: perceptualHash(rgb, width, height),
    thumb: Buffer.from(lumaThumbnail(rgb, width, height)).toString('base64'),
  };
}

/** Number of differing bits between two 16-hex-digit hashes. */
export function hammingDistance(a: string, b: string): number {
  return popcount((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) + popcount((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0);
}

/** Set bits of a 32-bit integer. */
export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
