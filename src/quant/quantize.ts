/**
 * Post-training quantization of a folded network: int8 weights per output channel, int32 biases,
 * and the activation parameters from calibration. The result is what the int8 model file holds;
 * everything a kernel needs beyond it (multipliers, tables, folded biases) is derived from it
 * (src/quant/kernel-params.ts), the same way in every runtime.
 */
import type { FoldedNet } from './fold.js';
import { activationNames, planLayers, planSteps, type NetPlan } from './net-plan.js';
import { quantizeBias, quantizeWeights, UNIT_RANGE, type QuantParams } from './qparams.js';
import { MobilegradError } from '../device/errors.js';

/** One quantized layer: int8 weights in mobilegrad's layout (output channel innermost). */
export interface QuantLayer {
  weight: Int8Array;
  /** Per output channel, float32. */
  weightScale: Float32Array;
  /** At scale s_in * weightScale[c]. */
  bias: Int32Array;
}

export interface QuantizedNet {
  plan: NetPlan;
  layers: Map<string, QuantLayer>;
  /** Every int8 tensor's scale and zero point, by the names of activationNames(plan). */
  activations: Map<string, QuantParams>;
}

/** Quantizes `net` with activation parameters `acts` (SE gates get the fixed [0, 1] range). */
export function quantizeNet(net: FoldedNet, acts: Map<string, QuantParams>): QuantizedNet {
  const activations = new Map(acts);
  for (const b of net.plan.blocks) if (b.se) activations.set(b.se.fc2.name, UNIT_RANGE);
  for (const name of activationNames(net.plan)) if (!activations.has(name)) throw new MobilegradError(`quantization: no range for tensor '${name}' (was it observed in calibration?)`);
  const inputOf = new Map<string, string>();
  for (const s of planSteps(net.plan)) if (s.op === 'layer') inputOf.set(s.layer.name, s.input);
  const layers = new Map<string, QuantLayer>();
  for (const l of planLayers(net.plan)) {
    const f = net.layers.get(l.name)!;
    const { q, scale } = quantizeWeights(f.weight, l.cout);
    const inScale = activations.get(inputOf.get(l.name)!)!.scale;
    layers.set(l.name, { weight: q, weightScale: scale, bias: quantizeBias(f.bias, inScale, scale) });
  }
  return { plan: net.plan, layers, activations };
}

/** The float32 weights the int8 ones stand for (w_q * s_w), mobilegrad layout. */
export function dequantizeWeights(l: QuantLayer): Float32Array {
  const c = l.weightScale.length;
  return Float32Array.from(l.weight, (v, i) => v * l.weightScale[i % c]!);
}
