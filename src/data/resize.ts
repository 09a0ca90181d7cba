/**
 * Resizing of 8-bit RGB images to the square network input.
 *
 * Three policies for non-square images (`--resize`):
 * - `crop` (default): **center-crop to a square, then resize**. The largest centred square is cut
 *   out (the shorter side is kept whole; an odd leftover pixel goes to the right/bottom), so objects
 *   keep their aspect ratio and nothing is padded; the edges of the longer side are lost.
 * - `squash`: the whole image is resized to the square, each axis on its own: nothing is lost, but
 *   shapes are stretched.
 * - `pad`: the whole image is resized to fit inside the square keeping its aspect ratio (the longer
 *   side fills it, the shorter is rounded to whole pixels) and centred on a fill of the ImageNet mean
 *   colour (124, 116, 104), which normalises to about zero: nothing is lost or stretched.
 * The source region is then resampled:
 * - bilinear (pixel centres at +0.5, edges clamped; the same as PyTorch `align_corners=false`)
 *   when enlarging or shrinking by at most 2x;
 * - area averaging (each output pixel is the mean of the source area it covers, with fractional
 *   edge pixels weighted by their coverage) when shrinking by more than 2x, where bilinear would
 *   skip pixels and alias.
 * Both filters are separable; rows are filtered first, then columns, in float32, rounded at the end.
 */

/** How a non-square image becomes a square: see the module comment. */
export type ResizeMode = 'crop' | 'squash' | 'pad';

/** The resize policies, default first. */
export const RESIZE_MODES: readonly ResizeMode[] = ['crop', 'squash', 'pad'];

/** Fill colour of `pad`: the ImageNet mean, so padding normalises to about zero. */
export const PAD_COLOR: readonly [number, number, number] = [124, 116, 104];

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
 * Resizes `rgb` (width x height x 3, uint8) to `size x size x 3` under `mode` (default: center-crop
 * to a square first).
 * @param out optional destination of `size*size*3` bytes (e.g. a slice of the dataset buffer).
 */
export function resizeRgb(rgb: Uint8Array, width: number, height: number, size: number, out?: Uint8Array, mode: ResizeMode = 'crop'): Uint8Array {
  if (!(width > 0 && height > 0) || rgb.length < width * height * 3) {
    throw new RangeError(`resizeRgb: ${rgb.length} bytes do not hold a ${width}x${height} RGB image`);
  }
  if (!(size > 0 && Number.isInteger(size))) throw new RangeError(`resizeRgb: size must be a positive integer, got ${size}`);
  const dst = out ?? new Uint8Array(size * size * 3);
  if (dst.length < size * size * 3) throw new RangeError(`resizeRgb: output holds ${dst.length} bytes, needs ${size * size * 3}`);
  // Source rectangle (sx, sy, sw, sh) goes to destination rectangle (dx, dy, dw, dh).
  let sx = 0, sy = 0, sw = width, sh = height, dx = 0, dy = 0, dw = size, dh = size;
  if (mode === 'crop') {
    const box = centerSquare(width, height);
    sx = box.x; sy = box.y; sw = sh = box.side;
  } else if (mode === 'pad') {
    if (width >= height) dh = Math.max(1, Math.min(size, Math.round((size * height) / width)));
    else dw = Math.max(1, Math.min(size, Math.round((size * width) / height)));
    dx = Math.floor((size - dw) / 2); dy = Math.floor((size - dh) / 2);
    if (dw < size || dh < size) for (let i = 0; i < size * size; i++) dst.set(PAD_COLOR, i * 3);
  } else if (mode !== 'squash') {
    throw new RangeError(`resizeRgb: mode must be one of ${RESIZE_MODES.join(', ')}, got ${String(mode)}`);
  }
  resample(rgb, width, sx, sy, sw, sh, dst, size, dx, dy, dw, dh);
  return dst;
}

/** Resamples the source rectangle into the destination rectangle of a `size`-wide RGB image. */
function resample(rgb: Uint8Array, width: number, sx: number, sy: number, sw: number, sh: number,
  dst: Uint8Array, size: number, dx: number, dy: number, dw: number, dh: number): void {
  const tx = axisTaps(sw, dw), ty = axisTaps(sh, dh);

  // Pass 1: horizontal, over only the source rows that pass 2 reads.
  const rowLo = ty.start[0];
  const rowHi = ty.start[dh - 1] + ty.count[dh - 1];
  const tmp = new Float32Array((rowHi - rowLo) * dw * 3);
  for (let r = rowLo; r < rowHi; r++) {
    const srcRow = ((sy + r) * width + sx) * 3;
    const tRow = (r - rowLo) * dw * 3;
    for (let o = 0; o < dw; o++) {
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
  const stride = dw * 3;
  for (let o = 0; o < dh; o++) {
    const n = ty.count[o], w0 = o * ty.maxTaps, first = ty.start[o] - rowLo;
    const d = ((dy + o) * size + dx) * 3;
    for (let x = 0; x < stride; x++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += tmp[(first + k) * stride + x] * ty.weights[w0 + k];
      const v = Math.round(acc);
      dst[d + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
