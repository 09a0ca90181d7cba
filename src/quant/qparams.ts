/**
 * Scales and zero points (docs/quantization.md): activations int8 affine per tensor, weights int8
 * symmetric per output channel, biases int32 at the scale s_in * s_w. Rounding is half to even
 * everywhere, as in ONNX's QuantizeLinear.
 */

/** An int8 tensor's real value: scale * (q - zeroPoint). */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** Round half to even. */
export function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export const clampInt = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * int8 parameters covering [lo, hi] (widened to include 0, so zero is exact): scale = (hi - lo) / 255,
 * zero point = roundEven(-128 - lo / scale). The scale is stored as float32.
 */
export function paramsForRange(lo: number, hi: number): QuantParams {
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  const scale = Math.fround(Math.max((b - a) / 255, 1e-8));
  return { scale, zeroPoint: clampInt(roundEven(-128 - a / scale), -128, 127) };
}

/** The fixed parameters of h-sigmoid's output, exactly [0, 1]. */
export const UNIT_RANGE: QuantParams = { scale: Math.fround(1 / 255), zeroPoint: -128 };

/** q = clamp(roundEven(v / scale) + zp, -128, 127). */
export function quantizeValue(v: number, p: QuantParams): number {
  return clampInt(roundEven(v / p.scale) + p.zeroPoint, -128, 127);
}

/**
 * Symmetric per-output-channel int8 weights: s_w[c] = max |w_c| / 127 (float32),
 * q = clamp(roundEven(w / s_w[c]), -127, 127). `w` has the output channel innermost
 * (mobilegrad layouts) with `channels` channels.
 */
export function quantizeWeights(w: Float32Array, channels: number): { q: Int8Array; scale: Float32Array } {
  const maxAbs = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[i % channels] = Math.max(maxAbs[i % channels]!, Math.abs(w[i]!));
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = maxAbs[c]! > 0 ? maxAbs[c]! / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = clampInt(roundEven(w[i]! / scale[i % channels]!), -127, 127);
  return { q, scale };
}

/** int32 bias at scale s_in * s_w[c]. */
export function quantizeBias(b: Float32Array, inScale: number, wScale: Float32Array): Int32Array {
  const out = new Int32Array(b.length);
  for (let c = 0; c < b.length; c++) out[c] = clampInt(roundEven(b[c]! / (inScale * wScale[c]!)), -(2 ** 31), 2 ** 31 - 1);
  return out;
}
