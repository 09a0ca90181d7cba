/**
 * The folded network in float32 on the GPU, with a tap at every tensor that the int8 model
 * quantizes. Calibration taps to observe ranges, the SQNR table taps to compare with the int8
 * model, and quantization-aware training taps to fake-quantize (the tap returns the tensor to
 * continue with). Built from the existing differentiable ops, so QAT gets gradients for free.
 */
import { activation } from '../ops/activation.js';
import { add, mul, reshape } from '../ops/elementwise.js';
import { conv2d, depthwiseConv2d, globalAvgPool, linear } from '../ops/index.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import type { FoldedNet } from './fold.js';
import { LOGITS, planLayers, planSteps, preName, usesTable, type NetPlan, type PlanLayer } from './net-plan.js';

/** Sees a named tensor of the graph and returns what the graph continues with (usually the same tensor). */
export type Tap = (name: string, t: Tensor) => Tensor;

/** A layer's weights on the GPU: weight in mobilegrad's layout, bias [cout]. */
export interface GraphLayerWeights {
  weight: Tensor;
  bias: Tensor;
}

/** mobilegrad's weight shape of a plan layer. */
export function weightShape(l: PlanLayer): number[] {
  if (l.kind === 'stem') return [l.kernel, l.kernel, l.cin, l.cout];
  if (l.kind === 'depthwise') return [l.kernel, l.kernel, l.cout];
  return [l.cin, l.cout];
}

/** Uploads folded weights (for calibration and SQNR; QAT makes its own trainable copies). */
export function uploadFolded(net: FoldedNet): Map<string, GraphLayerWeights> {
  const out = new Map<string, GraphLayerWeights>();
  for (const l of planLayers(net.plan)) {
    const f = net.layers.get(l.name)!;
    out.set(l.name, { weight: tensor(f.weight, weightShape(l)), bias: tensor(f.bias, [l.cout]) });
  }
  return out;
}

export function releaseWeights(w: Map<string, GraphLayerWeights>): void {
  for (const v of w.values()) {
    v.weight.release();
    v.bias.release();
  }
}

export interface FloatGraphOptions {
  /** Called with every quantized tensor (see activationNames). */
  tap?: Tap;
  /** Called with each layer's weight before use (QAT fake-quantizes per channel here). */
  weightTap?: (layer: PlanLayer, w: Tensor) => Tensor;
}

/** Logits [n, classes] of the folded network for a normalised NHWC batch x [n, s, s, 3]. */
export function floatGraphForward(plan: NetPlan, weights: Map<string, GraphLayerWeights>, x: Tensor, o: FloatGraphOptions = {}): Tensor {
  const tap: Tap = o.tap ?? ((_, t) => t);
  const values = new Map<string, Tensor>([['input', tap('input', x)]]);
  const get = (name: string) => values.get(name)!;
  for (const s of planSteps(plan)) {
    if (s.op === 'pool') values.set(s.output, tap(s.output, globalAvgPool(get(s.input))));
    else if (s.op === 'se_scale') {
      const h = get(s.input);
      const [n, , , c] = h.shape as [number, number, number, number];
      values.set(s.output, tap(s.output, mul(h, reshape(get(s.gate), [n, 1, 1, c]))));
    } else {
      const l = s.layer;
      const lw = weights.get(l.name)!;
      const w = o.weightTap ? o.weightTap(l, lw.weight) : lw.weight;
      const input = get(s.input);
      const pad = (l.kernel - 1) / 2;
      let y: Tensor;
      if (l.kind === 'stem') y = add(conv2d(input, w, { stride: l.stride, padding: pad }), lw.bias);
      else if (l.kind === 'depthwise') y = add(depthwiseConv2d(input, w, { stride: l.stride, padding: pad }), lw.bias);
      else y = linear(input, w, lw.bias);
      if (s.residual) y = add(y, get(s.residual));
      if (usesTable(l)) y = tap(preName(l), y);
      if (l.activation !== 'identity') y = activation(y, l.activation);
      values.set(s.output, s.output === LOGITS ? y : tap(s.output, y));
    }
  }
  return get(LOGITS);
}
