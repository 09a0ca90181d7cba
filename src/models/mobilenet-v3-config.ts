/**
 * MobileNetV3-Small as a table (Howard et al. 2019, Table 2; torchvision's mobilenetv3.py).
 * The model, `mobilegrad info`, the parameter count and the multiply-add count all read this table.
 */
import type { ActivationName } from '../../kernels/activation.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A nonlinearity of your own for a block (an op declared with `mg.defineOp`, or any function of
 * a tensor). Built-in names are fused into the BatchNorm kernel; a custom one runs after it.
 */
export interface CustomActivation {
  /** Shown in tables and module names' descriptions. */
  name: string;
  apply: (x: Tensor) => Tensor;
}

/** A block's nonlinearity: a built-in name or your own. */
export type BlockActivation = ActivationName | CustomActivation;

/** One inverted-residual ("bneck") block. */
export interface BlockConfig {
  kernel: number;
  expanded: number;
  out: number;
  se: boolean;
  activation: BlockActivation;
  stride: number;
}

/** A block after the width multiplier, with its input and squeeze channels. */
export interface ResolvedBlockConfig extends BlockConfig {
  in: number;
  squeeze: number;
}

/** Paper / torchvision order: kernel, expanded, out, SE, nonlinearity, stride. */
export const MOBILENET_V3_SMALL: readonly BlockConfig[] = [
  { kernel: 3, expanded: 16, out: 16, se: true, activation: 'relu', stride: 2 },
  { kernel: 3, expanded: 72, out: 24, se: false, activation: 'relu', stride: 2 },
  { kernel: 3, expanded: 88, out: 24, se: false, activation: 'relu', stride: 1 },
  { kernel: 5, expanded: 96, out: 40, se: true, activation: 'hswish', stride: 2 },
  { kernel: 5, expanded: 240, out: 40, se: true, activation: 'hswish', stride: 1 },
  { kernel: 5, expanded: 240, out: 40, se: true, activation: 'hswish', stride: 1 },
  { kernel: 5, expanded: 120, out: 48, se: true, activation: 'hswish', stride: 1 },
  { kernel: 5, expanded: 144, out: 48, se: true, activation: 'hswish', stride: 1 },
  { kernel: 5, expanded: 288, out: 96, se: true, activation: 'hswish', stride: 2 },
  { kernel: 5, expanded: 576, out: 96, se: true, activation: 'hswish', stride: 1 },
  { kernel: 5, expanded: 576, out: 96, se: true, activation: 'hswish', stride: 1 },
];

export const STEM_CHANNELS = 16;
export const HEAD_HIDDEN = 1024;

/** torchvision's _make_divisible: nearest multiple of `divisor`, at least `divisor`, never 10 % below v. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Options of the MobileNetV3-Small builder. */
export interface MobileNetV3Options {
  numClasses: number;
  /** Dropout before the last linear layer (torchvision: 0.2). */
  dropout?: number;
  /** Channel width multiplier (0.5, 0.75, 1.0...). */
  widthMultiplier?: number;
  /** BatchNorm momentum (torchvision: 0.01). */
  bnMomentum?: number;
  /** Per-block overrides: model surgery through the table. */
  blocks?: readonly BlockConfig[];
  /**
   * Builds block `index` (0-based over the bneck blocks) instead of the inverted residual: return
   * a Module mapping [N, H, W, cfg.in] to [N, H / cfg.stride, W / cfg.stride, cfg.out], or
   * undefined to keep the standard block. Its parameters are named `features.{index + 1}.*`.
   */
  blockFactory?: (cfg: ResolvedBlockConfig, index: number, bnMomentum: number) => Module | undefined;
}

/** The table after the width multiplier: channels as the network really has them. */
export function resolveConfig(o: MobileNetV3Options) {
  const w = o.widthMultiplier ?? 1;
  const adjust = (c: number) => makeDivisible(c * w, 8);
  const stem = adjust(STEM_CHANNELS);
  let inC = stem;
  const blocks = (o.blocks ?? MOBILENET_V3_SMALL).map((b): ResolvedBlockConfig => {
    const r = { ...b, in: inC, expanded: adjust(b.expanded), out: adjust(b.out), squeeze: makeDivisible(Math.floor(adjust(b.expanded) / 4), 8) };
    inC = r.out;
    return r;
  });
  const lastConv = 6 * inC;
  const hidden = adjust(HEAD_HIDDEN);
  return { stem, blocks, lastConv, hidden, numClasses: o.numClasses };
}

export interface LayerInfo {
  name: string;
  kind: 'conv' | 'depthwise' | 'pointwise' | 'se-fc' | 'linear';
  kernel: number;
  stride: number;
  inShape: [number, number, number];
  outShape: [number, number, number];
  params: number;
  macs: number;
}

/** Every weight layer with its shapes, parameters and multiply-adds at `imageSize` (batch 1). */
export function describeMobileNetV3Small(o: MobileNetV3Options, imageSize = 224): { layers: LayerInfo[]; params: number; macs: number } {
  const c = resolveConfig(o);
  const layers: LayerInfo[] = [];
  const bn = (ch: number) => 2 * ch;
  const out = (h: number, k: number, s: number) => Math.floor((h + 2 * Math.floor(k / 2) - k) / s) + 1;
  let h = imageSize;
  const push = (name: string, kind: LayerInfo['kind'], k: number, s: number, cin: number, cout: number, hin: number, hout: number, params: number) => {
    const macsPer = kind === 'depthwise' ? k * k : k * k * cin;
    layers.push({ name, kind, kernel: k, stride: s, inShape: [cin, hin, hin], outShape: [cout, hout, hout], params, macs: macsPer * cout * hout * hout });
  };
  let ho = out(h, 3, 2);
  push('features.0.0', 'conv', 3, 2, 3, c.stem, h, ho, 9 * 3 * c.stem + bn(c.stem));
  h = ho;
  c.blocks.forEach((b, i) => {
    const p = `features.${i + 1}.block`;
    let j = 0;
    if (b.expanded !== b.in) push(`${p}.${j++}.0`, 'pointwise', 1, 1, b.in, b.expanded, h, h, b.in * b.expanded + bn(b.expanded));
    ho = out(h, b.kernel, b.stride);
    push(`${p}.${j++}.0`, 'depthwise', b.kernel, b.stride, b.expanded, b.expanded, h, ho, b.kernel * b.kernel * b.expanded + bn(b.expanded));
    h = ho;
    if (b.se) {
      push(`${p}.${j}.fc1`, 'se-fc', 1, 1, b.expanded, b.squeeze, 1, 1, b.expanded * b.squeeze + b.squeeze);
      push(`${p}.${j++}.fc2`, 'se-fc', 1, 1, b.squeeze, b.expanded, 1, 1, b.squeeze * b.expanded + b.expanded);
    }
    push(`${p}.${j}.0`, 'pointwise', 1, 1, b.expanded, b.out, h, h, b.expanded * b.out + bn(b.out));
  });
  const last = c.blocks[c.blocks.length - 1]!.out;
  push(`features.${c.blocks.length + 1}.0`, 'pointwise', 1, 1, last, c.lastConv, h, h, last * c.lastConv + bn(c.lastConv));
  layers.push({ name: 'classifier.0', kind: 'linear', kernel: 1, stride: 1, inShape: [c.lastConv, 1, 1], outShape: [c.hidden, 1, 1], params: c.lastConv * c.hidden + c.hidden, macs: c.lastConv * c.hidden });
  layers.push({ name: 'classifier.3', kind: 'linear', kernel: 1, stride: 1, inShape: [c.hidden, 1, 1], outShape: [c.numClasses, 1, 1], params: c.hidden * c.numClasses + c.numClasses, macs: c.hidden * c.numClasses });
  return { layers, params: layers.reduce((n, l) => n + l.params, 0), macs: layers.reduce((n, l) => n + l.macs, 0) };
}
