/**
 * BatchNorm folded into the convolution before it: w' = w * g / sqrt(v + eps) per output channel,
 * b' = beta - mean * g / sqrt(v + eps). Weights stay in mobilegrad's layouts (stem [k,k,cin,cout],
 * depthwise [k,k,c], pointwise and linear [cin,cout]); computed in float64, stored as float32.
 */
import { MobilegradError } from '../device/errors.js';
import type { MobileNetV3Small } from '../models/mobilenet-v3.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { makePlan, planLayers, type NetPlan, type PlanLayer } from './net-plan.js';

/** A layer's float weights and bias after folding. */
export interface FoldedLayer {
  /** mobilegrad layout, output channel innermost. */
  weight: Float32Array;
  bias: Float32Array;
}

export interface FoldedNet {
  plan: NetPlan;
  layers: Map<string, FoldedLayer>;
}

/** Folds weights given by name (mobilegrad layouts, as Module.stateTensors holds them). */
export function foldWeights(plan: NetPlan, get: (name: string) => Float32Array, bnEps: (bn: string) => number): FoldedNet {
  const layers = new Map<string, FoldedLayer>();
  for (const l of planLayers(plan)) layers.set(l.name, foldLayer(l, get, bnEps));
  return { plan, layers };
}

function foldLayer(l: PlanLayer, get: (name: string) => Float32Array, bnEps: (bn: string) => number): FoldedLayer {
  const w = get(`${l.name}.weight`);
  if (!l.bn) return { weight: Float32Array.from(w), bias: Float32Array.from(get(`${l.name}.bias`)) };
  const gamma = get(`${l.bn}.weight`);
  const beta = get(`${l.bn}.bias`);
  const mean = get(`${l.bn}.running_mean`);
  const variance = get(`${l.bn}.running_var`);
  const eps = bnEps(l.bn);
  const c = l.cout;
  const scale = new Float64Array(c);
  const bias = new Float32Array(c);
  for (let o = 0; o < c; o++) {
    scale[o] = gamma[o]! / Math.sqrt(variance[o]! + eps);
    bias[o] = beta[o]! - mean[o]! * scale[o]!;
  }
  // Output channel is the innermost index in every mobilegrad layout.
  const weight = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) weight[i] = w[i]! * scale[i % c]!;
  return { weight, bias };
}

/** Reads a trained model's weights from the GPU and folds its BatchNorms (eval-mode statistics). */
export async function foldModel(model: MobileNetV3Small): Promise<FoldedNet> {
  const plan = makePlan({ numClasses: model.numClasses, widthMultiplier: model.options.widthMultiplier });
  const host = new Map<string, Float32Array>();
  for (const [name, t] of model.stateTensors()) host.set(name, (await t.toArray()) as Float32Array);
  const eps = new Map<string, number>();
  for (const [name, m] of model.namedModules()) if (m instanceof BatchNorm2d) eps.set(name, m.eps);
  return foldWeights(
    plan,
    (n) => {
      const v = host.get(n);
      if (!v) throw new MobilegradError(`folding: the model has no tensor '${n}'`);
      return v;
    },
    (bn) => eps.get(bn) ?? 1e-3,
  );
}
