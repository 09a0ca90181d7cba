/**
 * Resizing of 8-bit RGB images to the square network input.
 *
 * Policy: **center-crop to a square, then resize**. The largest centred square is cut out (the
 * shorter side is kept whole; an odd leftover pixel goes to the right/bottom), so objects keep their
 * aspect ratio and nothing is padded. The square is then resampled to `size x size`:
 * - bilinear (pixel centres at +0.5, edges clamped; the same as PyTorch `align_corners=false`)
 *   when enlarging or shrinking by at most 2x;
 * - area averaging (each output pixel is the mean of the source area it covers, with fractional
 *   edge pixels weighted by their coverage) when shrinking by more than 2x, where bilinear would
 *   skip pixels and alias.
 * Both filters are separable; rows are filtered first, then columns, in float32, rounded at the end.
 */

/** The square that {@link resizeRgb} keeps from a `width x height` image. */
export interface CropBox {
  x: number;
  y: number;
  side: number;
}

/** The centred square of side min(width, height). */
export function centerSquare(width: number, height: number): CropBox {
  const side = Math.min(width, height);
  return { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), side };
}

/** Per output coordinate: the first source index and the weights of consecutive source samples. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Filter taps mapping `srcLen` samples to `dstLen` samples (bilinear up to 2x shrink, area beyond). */
function axisTaps(srcLen: number, dstLen: number): AxisTaps {
  const scale = srcLen / dstLen;
  const area = scale > 2;
  const maxTaps = area ? Math.ceil(scale) + 1 : 2;
  const start = new Int32Array(dstLen), count = new Int32Array(dstLen);
  const weights = new Float32Array(dstLen * maxTaps);
  for (let o = 0; o < dstLen; o++) {
    const w = o * maxTaps;
    if (area) {
      const lo = o * scale, hi = (o + 1) * scale;
      const first = Math.floor(lo), last = Math.min(srcLen - 1, Math.ceil(hi) - 1);
      start[o] = first;
      count[o] = last - first + 1;
      for (let s = first; s <= last; s++) {
        weights[w + s - first] = (Math.min(hi, s + 1) - Math.max(lo, s)) / scale;
      }
    } else {
      let c = (o + 0.5) * scale - 0.5;
      if (c < 0) c = 0;
      if (c > srcLen - 1) c = srcLen - 1;
      const i0 = Math.floor(c);
      const f = c - i0;
      start[o] = i0;
      if (i0 + 1 < srcLen && f > 0) {
        count[o] = 2;
        weights[w] = 1 - f;
        weights[w + 1] = f;
      } else {
        count[o] = 1;
        weights[w] = 1;
      }
    }
  }
  return { start, count, weights, maxTaps };
}

/**
 * Center-crops `rgb` (width x height x 3, uint8) to a square and resizes it to `size x size x 3`.
 * @param out optional destination of `size*size*3` bytes (e.g. a slice of the dataset buffer).
 */
export function resizeRgb(rgb: Uint8Array, width: number, height: number, size: number, out?: Uint8Array): Uint8Array {
  if (!(width > 0 && height > 0) || rgb.length < width * height * 3) {
    throw new RangeError(`resizeRgb: ${rgb.length} bytes do not hold a ${width}x${height} RGB image`);
  }
  if (!(size > 0 && Number.isInteger(size))) throw new RangeError(`resizeRgb: size must be a positive integer, got ${size}`);
  const dst = out ?? new Uint8Array(size * size * 3);
  if (dst.length < size * size * 3) throw new RangeError(`resizeRgb: output holds ${dst.length} bytes, needs ${size * size * 3}`);
  const box = centerSquare(width, height);
  const side = box.side;
  const tx = axisTaps(side, size), ty = axisTaps(side, size);

  // Pass 1: horizontal, over only the source rows that pass 2 reads.
  const rowLo = ty.start[0];
  const rowHi = ty.start[size - 1] + ty.count[size - 1];
  const tmp = new Float32Array((rowHi - rowLo) * size * 3);
  for (let r = rowLo; r < rowHi; r++) {
    const srcRow = ((box.y + r) * width + box.x) * 3;
    const tRow = (r - rowLo) * size * 3;
    for (let o = 0; o < size; o++) {
      let a0 = 0, a1 = 0, a2 = 0;
      const n = tx.count[o], w0 = o * tx.maxTaps;
      let s = srcRow + tx.start[o] * 3;
      for (let k = 0; k < n; k++, s += 3) {
        const w = tx.weights[w0 + k];
        a0 += rgb[s] * w; a1 += rgb[s + 1] * w; a2 += rgb[s + 2] * w;
      }
      const t = tRow + o * 3;
      tmp[t] = a0; tmp[t + 1] = a1; tmp[t + 2] = a2;
    }
  }
  // Pass 2: vertical.
  const stride = size * 3;
  for (let o = 0; o < size; o++) {
    const n = ty.count[o], w0 = o * ty.maxTaps, first = ty.start[o] - rowLo;
    const d = o * stride;
    for (let x = 0; x < stride; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += tmp[(first + k) * stride + x] * ty.weights[w0 + k];
      const v = Math.round(acc);
      dst[d + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return dst;
}
