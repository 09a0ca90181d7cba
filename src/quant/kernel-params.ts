/**
 * What the int8 kernels need, derived from a quantized network exactly as docs/quantization.md
 * states: requantization multipliers (float32), int32 biases with the input zero point folded in,
 * 256-entry activation tables, and the input table from pixel values to int8.
 */
import { IMAGENET_MEAN, IMAGENET_STD } from '../ops/augment.js';
import type { PlanLayer, PlanStep, QuantActivation } from './net-plan.js';
import { preName, usesTable } from './net-plan.js';
import { clampInt, quantizeValue, roundEven, type QuantParams } from './qparams.js';
import type { QuantizedNet } from './quantize.js';

export function applyActivation(a: QuantActivation, v: number): number {
  switch (a) {
    case 'relu':
      return Math.max(v, 0);
    case 'hswish':
      return (v * Math.min(Math.max(v + 3, 0), 6)) / 6;
    case 'hsigmoid':
      return Math.min(Math.max(v + 3, 0), 6) / 6;
    default:
      return v;
  }
}

/** Kernel-ready parameters of one layer step. */
export interface LayerKernelParams {
  /** int8 weights in the kernel's layout: [cout, cin] (GEMM), [k, k, c] (depthwise), [k, k, cout, 4] (stem). */
  weight: Int8Array;
  weightShape: number[];
  bias: Int32Array;
  mult: Float32Array;
  table?: Int32Array;
  zp: number;
  lo: number;
  zx: number;
  residual?: { zp: number; mult: number };
  floatOut: boolean;
}

/** table[q + 128] = quantize(act(dequantize(q, pre)), out). */
export function activationTable(a: QuantActivation, pre: QuantParams, out: QuantParams): Int32Array {
  const t = new Int32Array(256);
  for (let q = -128; q < 128; q++) t[q + 128] = quantizeValue(applyActivation(a, pre.scale * (q - pre.zeroPoint)), out);
  return t;
}

/** mobilegrad layout -> kernel layout, and the per-channel sums of the weights. */
function kernelWeights(l: PlanLayer, w: Int8Array): { weight: Int8Array; shape: number[]; sums: Int32Array } {
  const sums = new Int32Array(l.cout);
  for (let i = 0; i < w.length; i++) sums[i % l.cout] += w[i]!;
  if (l.kind === 'depthwise') return { weight: w, shape: [l.kernel, l.kernel, l.cout], sums };
  if (l.kind === 'stem') {
    const taps = l.kernel * l.kernel;
    const out = new Int8Array(taps * l.cout * 4);
    for (let t = 0; t < taps; t++) for (let i = 0; i < l.cin; i++) for (let o = 0; o < l.cout; o++) out[(t * l.cout + o) * 4 + i] = w[(t * l.cin + i) * l.cout + o]!;
    return { weight: out, shape: [l.kernel, l.kernel, l.cout, 4], sums };
  }
  const out = new Int8Array(w.length);
  for (let i = 0; i < l.cin; i++) for (let o = 0; o < l.cout; o++) out[o * l.cin + i] = w[i * l.cout + o]!;
  return { weight: out, shape: [l.cout, l.cin], sums };
}

export function layerKernelParams(q: QuantizedNet, s: Extract<PlanStep, { op: 'layer' }>): LayerKernelParams {
  const l = s.layer;
  const ql = q.layers.get(l.name)!;
  const x = q.activations.get(s.input)!;
  const floatOut = l === q.plan.fc2;
  const out = floatOut ? undefined : q.activations.get(l.name)!;
  const target = usesTable(l) ? q.activations.get(preName(l))! : out;
  const kw = kernelWeights(l, ql.weight);
  const bias = new Int32Array(l.cout);
  const mult = new Float32Array(l.cout);
  for (let c = 0; c < l.cout; c++) {
    // The depthwise kernel subtracts the zero point per tap; the others fold it into the bias.
    bias[c] = clampInt(ql.bias[c]! - (l.kind === 'depthwise' ? 0 : x.zeroPoint * kw.sums[c]!), -(2 ** 31), 2 ** 31 - 1);
    mult[c] = (x.scale * ql.weightScale[c]!) / (target ? target.scale : 1);
  }
  const res = s.residual ? q.activations.get(s.residual)! : undefined;
  return {
    weight: kw.weight,
    weightShape: kw.shape,
    bias,
    mult,
    table: usesTable(l) && out ? activationTable(l.activation, target!, out) : undefined,
    zp: out ? (usesTable(l) ? target!.zeroPoint : out.zeroPoint) : 0,
    lo: l.activation === 'relu' && out ? out.zeroPoint : -128,
    zx: x.zeroPoint,
    residual: res && out ? { zp: res.zeroPoint, mult: Math.fround(res.scale / out.scale) } : undefined,
    floatOut,
  };
}

/**
 * The input table: for channel c and pixel value v, the int8 value of the normalised pixel,
 * computed in float32 as the ONNX graph does: x = v / 255; (x - mean[c]) / std[c]; then
 * QuantizeLinear (divide by the scale, round half to even, add the zero point, saturate).
 */
export function inputTable(p: QuantParams, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): Int32Array {
  const f = Math.fround;
  const t = new Int32Array(768);
  for (let c = 0; c < 3; c++)
    for (let v = 0; v < 256; v++) {
      const x = f(f(f(v / 255) - f(mean[c]!)) / f(std[c]!));
      t[c * 256 + v] = clampInt(roundEven(f(x / f(p.scale))) + p.zeroPoint, -128, 127);
    }
  return t;
}
