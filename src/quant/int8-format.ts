/**
 * The int8 model file, platform-neutral: `model.safetensors` holds, under torchvision's module
 * names and in PyTorch's layouts, each layer's int8 weights (`<layer>.weight`, I8, BatchNorm
 * folded in), per-output-channel float32 scales (`<layer>.weight_scale`, F32) and int32 biases
 * (`<layer>.bias`, I32, at scale s_in * s_w[c]); `config.json` (precision "int8") holds every
 * activation's scale and zero point and states the arithmetic (docs/quantization.md).
 */
import { MobilegradError } from '../device/errors.js';
import { parseSafetensors, serializeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { fromPyTorch, pytorchShape, toPyTorch } from '../models/weights.js';
import type { ParamLayout } from '../nn/module.js';
import { weightShape } from './float-graph.js';
import { activationNames, makePlan, planLayers, type PlanLayer } from './net-plan.js';
import type { QuantParams } from './qparams.js';
import type { QuantizedNet, QuantLayer } from './quantize.js';

/** What config.json's `quantization` section holds. */
export interface Int8Info {
  scheme: 'mobilegrad-int8-v1';
  /** Human-readable summary of the arithmetic; docs/quantization.md has the full statement. */
  arithmetic: string;
  weights: 'int8 symmetric per output channel, zero point 0, range [-127, 127]';
  activations: Record<string, QuantParams>;
  /** How the activation ranges were chosen and on how many images. */
  calibration?: { method: string; images: number };
}

export const ARITHMETIC =
  'real = scale * (q - zero_point); conv/linear: acc = bias_i32 + sum (x_q - x_zp) * w_q (int32), ' +
  'y_q = clamp(round_half_even(float32(acc) * float32(s_x * s_w[c] / s_y)) + y_zp, -128, 127); ' +
  'h-swish / h-sigmoid through a 256-entry table over a pre-activation tensor (<layer>:pre); ReLU as the lower clamp at y_zp; ' +
  'residual adds before rounding; logits = float32(acc) * s_x * s_w[c]; padding with the input zero point';

const layoutOf = (l: PlanLayer): ParamLayout => (l.kind === 'stem' ? 'hwio' : l.kind === 'depthwise' ? 'dw' : l.kind === 'linear' ? 'io' : 'io1x1');

function bytesOf(a: Int8Array | Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** safetensors bytes and the `quantization` section of config.json for a quantized network. */
export function encodeInt8Weights(net: QuantizedNet, calibration?: Int8Info['calibration']): { weights: Uint8Array; info: Int8Info } {
  const tensors: [string, SafeTensor][] = [];
  for (const l of planLayers(net.plan)) {
    const q = net.layers.get(l.name)!;
    const layout = layoutOf(l);
    const shape = weightShape(l);
    const pt = Int8Array.from(toPyTorch(layout, shape, Float32Array.from(q.weight)));
    tensors.push([`${l.name}.weight`, { dtype: 'I8', shape: pytorchShape(layout, shape, l.name), data: bytesOf(pt) }]);
    tensors.push([`${l.name}.weight_scale`, { dtype: 'F32', shape: [l.cout], data: bytesOf(Float32Array.from(q.weightScale)) }]);
    tensors.push([`${l.name}.bias`, { dtype: 'I32', shape: [l.cout], data: bytesOf(Int32Array.from(q.bias)) }]);
  }
  const activations: Record<string, QuantParams> = {};
  for (const name of activationNames(net.plan)) {
    const p = net.activations.get(name)!;
    activations[name] = { scale: p.scale, zeroPoint: p.zeroPoint };
  }
  return {
    weights: serializeSafetensors(tensors, { format: 'mobilegrad-int8', producer: 'mobilegrad' }),
    info: { scheme: 'mobilegrad-int8-v1', arithmetic: ARITHMETIC, weights: 'int8 symmetric per output channel, zero point 0, range [-127, 127]', activations, calibration },
  };
}

function typed(t: SafeTensor | undefined, name: string, dtype: SafeTensor['dtype'], what: string): SafeTensor {
  if (!t) throw new MobilegradError(`${what}: tensor '${name}' is missing`);
  if (t.dtype !== dtype) throw new MobilegradError(`${what}: tensor '${name}' is ${t.dtype}, expected ${dtype}`);
  return t;
}

/** Reads an int8 model's weights back (the inverse of {@link encodeInt8Weights}). */
export function decodeInt8Weights(bytes: Uint8Array, info: Int8Info, arch: { numClasses: number; widthMultiplier: number }, what = 'model.safetensors'): QuantizedNet {
  if (info?.scheme !== 'mobilegrad-int8-v1') throw new MobilegradError(`${what}: config.json has no int8 quantization section this version reads`);
  const plan = makePlan(arch);
  const { tensors } = parseSafetensors(bytes, what);
  const layers = new Map<string, QuantLayer>();
  for (const l of planLayers(plan)) {
    const layout = layoutOf(l);
    const shape = weightShape(l);
    const w = typed(tensors.get(`${l.name}.weight`), `${l.name}.weight`, 'I8', what);
    const want = pytorchShape(layout, shape, l.name);
    if (w.shape.join() !== want.join()) throw new MobilegradError(`${what}: '${l.name}.weight' has shape [${w.shape}], the config says [${want}]`);
    const pt = new Int8Array(w.data.slice().buffer);
    const weight = Int8Array.from(fromPyTorch(layout, shape, Float32Array.from(pt)));
    const s = typed(tensors.get(`${l.name}.weight_scale`), `${l.name}.weight_scale`, 'F32', what);
    const b = typed(tensors.get(`${l.name}.bias`), `${l.name}.bias`, 'I32', what);
    if (s.shape.join() !== `${l.cout}` || b.shape.join() !== `${l.cout}`) throw new MobilegradError(`${what}: '${l.name}' scales or bias do not have ${l.cout} channels`);
    layers.set(l.name, { weight, weightScale: new Float32Array(s.data.slice().buffer), bias: new Int32Array(b.data.slice().buffer) });
  }
  const activations = new Map<string, QuantParams>();
  for (const name of activationNames(plan)) {
    const p = info.activations?.[name];
    if (!p || !Number.isFinite(p.scale) || !(p.scale > 0) || !Number.isInteger(p.zeroPoint)) throw new MobilegradError(`${what}: config.json lacks valid quantization parameters for '${name}'`);
    activations.set(name, { scale: p.scale, zeroPoint: p.zeroPoint });
  }
  return { plan, layers, activations };
}
