/**
 * MobileNetV3-Small as the quantized graph sees it: every weight layer with BatchNorm folded in
 * (a convolution with a bias), its activation, and the names of the tensors that get their own
 * int8 scale and zero point. The float graph (calibration, QAT, SQNR), the quantizer, the int8
 * runner and the ONNX exporter all walk this one plan.
 */
import { resolveConfig, type MobileNetV3Options } from '../models/mobilenet-v3-config.js';

export type QuantActivation = 'identity' | 'relu' | 'hswish' | 'hsigmoid';

/** One weight layer. `name` is torchvision's module prefix of its weight (`features.1.block.0.0`). */
export interface PlanLayer {
  name: string;
  kind: 'stem' | 'depthwise' | 'pointwise' | 'linear';
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  activation: QuantActivation;
  /** torchvision prefix of the BatchNorm folded into it (none for SE and classifier layers). */
  bn?: string;
}

export interface PlanSE {
  /** torchvision prefix of the SE module (`features.1.block.1`). */
  name: string;
  fc1: PlanLayer;
  fc2: PlanLayer;
}

export interface PlanBlock {
  expand?: PlanLayer;
  depthwise: PlanLayer;
  se?: PlanSE;
  project: PlanLayer;
  residual: boolean;
}

export interface NetPlan {
  numClasses: number;
  stem: PlanLayer;
  blocks: PlanBlock[];
  last: PlanLayer;
  fc1: PlanLayer;
  fc2: PlanLayer;
}

/** Every weight layer of the plan, in execution order. */
export function planLayers(p: NetPlan): PlanLayer[] {
  const out = [p.stem];
  for (const b of p.blocks) {
    if (b.expand) out.push(b.expand);
    out.push(b.depthwise);
    if (b.se) out.push(b.se.fc1, b.se.fc2);
    out.push(b.project);
  }
  out.push(p.last, p.fc1, p.fc2);
  return out;
}

/** Builds the plan from the same config table as the model (src/models/mobilenet-v3-config.ts). */
export function makePlan(o: MobileNetV3Options): NetPlan {
  const c = resolveConfig(o);
  const conv = (prefix: string, kind: PlanLayer['kind'], cin: number, cout: number, kernel: number, stride: number, activation: QuantActivation): PlanLayer => ({
    name: `${prefix}.0`, kind, cin, cout, kernel, stride, activation, bn: `${prefix}.1`,
  });
  const stem = conv('features.0', 'stem', 3, c.stem, 3, 2, 'hswish');
  const blocks: PlanBlock[] = c.blocks.map((b, i) => {
    const p = `features.${i + 1}.block`;
    let j = 0;
    const act: QuantActivation = b.activation === 'hswish' ? 'hswish' : 'relu';
    const expand = b.expanded !== b.in ? conv(`${p}.${j++}`, 'pointwise', b.in, b.expanded, 1, 1, act) : undefined;
    const depthwise = conv(`${p}.${j++}`, 'depthwise', b.expanded, b.expanded, b.kernel, b.stride, act);
    let se: PlanSE | undefined;
    if (b.se) {
      const s = `${p}.${j++}`;
      se = {
        name: s,
        fc1: { name: `${s}.fc1`, kind: 'linear', cin: b.expanded, cout: b.squeeze, kernel: 1, stride: 1, activation: 'relu' },
        fc2: { name: `${s}.fc2`, kind: 'linear', cin: b.squeeze, cout: b.expanded, kernel: 1, stride: 1, activation: 'hsigmoid' },
      };
    }
    const project = conv(`${p}.${j}`, 'pointwise', b.expanded, b.out, 1, 1, 'identity');
    return { expand, depthwise, se, project, residual: b.stride === 1 && b.in === b.out };
  });
  const lastIn = c.blocks[c.blocks.length - 1]!.out;
  const last = conv(`features.${c.blocks.length + 1}`, 'pointwise', lastIn, c.lastConv, 1, 1, 'hswish');
  const fc1: PlanLayer = { name: 'classifier.0', kind: 'linear', cin: c.lastConv, cout: c.hidden, kernel: 1, stride: 1, activation: 'hswish' };
  const fc2: PlanLayer = { name: 'classifier.3', kind: 'linear', cin: c.hidden, cout: c.numClasses, kernel: 1, stride: 1, activation: 'identity' };
  return { numClasses: c.numClasses, stem, blocks, last, fc1, fc2 };
}

/** Layers whose activation goes through a table (h-swish, h-sigmoid) quantize their input to it too. */
export const usesTable = (l: PlanLayer) => l.activation === 'hswish' || l.activation === 'hsigmoid';

/** Name of the tensor before a table activation. */
export const preName = (l: PlanLayer) => `${l.name}:pre`;

/**
 * Every int8 tensor of the graph, in execution order: `input`, each layer's output (and
 * pre-activation for tables), the SE blocks' pooled vector (`<se>.pool`) and output (`<se>`),
 * and the head's pooled vector (`pool`). The logits stay float.
 */
export function activationNames(p: NetPlan): string[] {
  const out = ['input'];
  const layer = (l: PlanLayer) => {
    if (usesTable(l)) out.push(preName(l));
    out.push(l.name);
  };
  layer(p.stem);
  for (const b of p.blocks) {
    if (b.expand) layer(b.expand);
    layer(b.depthwise);
    if (b.se) {
      out.push(`${b.se.name}.pool`);
      layer(b.se.fc1);
      layer(b.se.fc2);
      out.push(b.se.name);
    }
    layer(b.project);
  }
  layer(p.last);
  out.push('pool');
  layer(p.fc1);
  return out;
}

/** One step of the quantized graph; tensors are named as in {@link activationNames}. */
export type PlanStep =
  | { op: 'layer'; layer: PlanLayer; input: string; output: string; residual?: string }
  | { op: 'pool'; input: string; output: string }
  | { op: 'se_scale'; input: string; gate: string; output: string };

/** The name of the float logits, the graph's output. */
export const LOGITS = 'logits';

/**
 * The graph as steps, from the int8 input (`input`) to the float logits: which tensor each layer
 * reads and writes, where the pools, SE scalings and residuals are. Every executor walks this.
 */
export function planSteps(p: NetPlan): PlanStep[] {
  const steps: PlanStep[] = [];
  let cur = 'input';
  const layer = (l: PlanLayer, residual?: string) => {
    steps.push({ op: 'layer', layer: l, input: cur, output: l === p.fc2 ? LOGITS : l.name, residual });
    cur = l.name;
  };
  layer(p.stem);
  for (const b of p.blocks) {
    const skip = cur;
    if (b.expand) layer(b.expand);
    layer(b.depthwise);
    if (b.se) {
      const x = cur;
      steps.push({ op: 'pool', input: x, output: `${b.se.name}.pool` });
      cur = `${b.se.name}.pool`;
      layer(b.se.fc1);
      layer(b.se.fc2);
      steps.push({ op: 'se_scale', input: x, gate: b.se.fc2.name, output: b.se.name });
      cur = b.se.name;
    }
    layer(b.project, b.residual ? skip : undefined);
  }
  layer(p.last);
  steps.push({ op: 'pool', input: cur, output: 'pool' });
  cur = 'pool';
  layer(p.fc1);
  layer(p.fc2);
  return steps;
}
