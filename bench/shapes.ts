/**
 * The distinct layer shapes of MobileNetV3-Small that the kernel benchmark runs, read from the same
 * table the model is built from (src/models/mobilenet-v3-config.ts): nothing here is typed again.
 * Each distinct shape carries `count`, how many layers of one forward pass have it.
 */
import type { ActivationName } from '../kernels/activation.js';
import { describeMobileNetV3Small, resolveConfig, type BlockActivation, type LayerInfo } from '../src/models/mobilenet-v3-config.js';

/** The benchmark times built-in activations; a custom one (model surgery) counts as none. */
const builtin = (a: BlockActivation): ActivationName => (typeof a === 'string' ? a : 'identity');

export interface ConvShape {
  h: number; // input height = width
  cin: number;
  cout: number;
  k: number;
  stride: number;
  ho: number;
  count: number;
}
export interface DepthwiseShape {
  h: number;
  c: number;
  k: number;
  stride: number;
  ho: number;
  count: number;
}
/** A 1x1 convolution as a GEMM: M = batch * h * h, K = cin, N = cout. */
export interface PointwiseShape {
  h: number;
  cin: number;
  cout: number;
  count: number;
}
/** A fully connected layer with bias on [batch, in] (classifier, or SE's fc1 / fc2). */
export interface LinearShape {
  name: string;
  inF: number;
  outF: number;
  count: number;
}
/** An NHWC activation map [batch, h, h, c]. */
export interface MapShape {
  h: number;
  c: number;
  count: number;
}
/** A map followed by BatchNorm (training) and the activation the network applies to it. */
export interface NormShape extends MapShape {
  activation: ActivationName;
}

export interface BenchShapes {
  imageSize: number;
  numClasses: number;
  stem: ConvShape[];
  depthwise: DepthwiseShape[];
  pointwise: PointwiseShape[];
  norm: NormShape[];
  /** Standalone activations (the model applies them after BatchNorm, not fused). */
  activation: NormShape[];
  /** Global average pools: the SE blocks' and the head's. */
  pool: MapShape[];
  /** SE gate multiplies x [n,h,h,c] * gate [n,1,1,c]. */
  seScale: MapShape[];
  /** Residual adds of the blocks that have one. */
  residual: MapShape[];
  seLinear: LinearShape[];
  classifier: LinearShape[];
}

function addDistinct<T extends { count: number }>(list: T[], item: Omit<T, 'count'>, same: (a: T) => boolean): void {
  const hit = list.find(same);
  if (hit) hit.count++;
  else list.push({ ...item, count: 1 } as T);
}

/** MobileNetV3-Small's distinct kernel shapes at `imageSize` (1000 classes, width 1.0). */
export function mobilenetShapes(imageSize = 224, numClasses = 1000): BenchShapes {
  const options = { numClasses };
  const cfg = resolveConfig(options);
  const { layers } = describeMobileNetV3Small(options, imageSize);
  const s: BenchShapes = {
    imageSize, numClasses, stem: [], depthwise: [], pointwise: [], norm: [], activation: [], pool: [], seScale: [], residual: [], seLinear: [], classifier: [],
  };
  const norm = (h: number, c: number, activation: ActivationName) => {
    addDistinct(s.norm, { h, c, activation }, (x) => x.h === h && x.c === c && x.activation === activation);
    if (activation !== 'identity') addDistinct(s.activation, { h, c, activation }, (x) => x.h === h && x.c === c && x.activation === activation);
  };
  // Which block (features.<i>) a layer belongs to, and whether its depthwise came already.
  const blockOf = (l: LayerInfo) => {
    const m = /^features\.(\d+)\.block\./.exec(l.name);
    return m ? Number(m[1]) - 1 : -1;
  };
  const sawDepthwise = new Set<number>();
  for (const l of layers) {
    const [cin, h] = l.inShape;
    const [cout, ho] = l.outShape;
    const bi = blockOf(l);
    const block = bi >= 0 ? cfg.blocks[bi] : undefined;
    switch (l.kind) {
      case 'conv':
        addDistinct(s.stem, { h, cin, cout, k: l.kernel, stride: l.stride, ho }, (x) => x.h === h && x.cin === cin && x.cout === cout && x.k === l.kernel && x.stride === l.stride);
        norm(ho, cout, 'hswish');
        break;
      case 'depthwise':
        addDistinct(s.depthwise, { h, c: cin, k: l.kernel, stride: l.stride, ho }, (x) => x.h === h && x.c === cin && x.k === l.kernel && x.stride === l.stride);
        norm(ho, cout, builtin(block!.activation));
        sawDepthwise.add(bi);
        break;
      case 'pointwise': {
        addDistinct(s.pointwise, { h, cin, cout }, (x) => x.h === h && x.cin === cin && x.cout === cout);
        // In a block: expansion (before the depthwise) uses the block's activation, projection none.
        // Outside (the last conv): h-swish.
        const act: ActivationName = !block ? 'hswish' : sawDepthwise.has(bi) ? 'identity' : builtin(block.activation);
        norm(ho, cout, act);
        if (block && sawDepthwise.has(bi) && block.stride === 1 && block.in === block.out) {
          addDistinct(s.residual, { h: ho, c: cout }, (x) => x.h === ho && x.c === cout);
        }
        break;
      }
      case 'se-fc': {
        addDistinct(s.seLinear, { name: 'se', inF: cin, outF: cout }, (x) => x.inF === cin && x.outF === cout);
        if (l.name.endsWith('fc1')) {
          // The SE block pools the depthwise output [n, h, h, expanded] and scales it by the gate.
          const hh = imageSizeAfterDepthwise(layers, l);
          addDistinct(s.pool, { h: hh, c: cin }, (x) => x.h === hh && x.c === cin);
          addDistinct(s.seScale, { h: hh, c: cin }, (x) => x.h === hh && x.c === cin);
        }
        break;
      }
      case 'linear':
        s.classifier.push({ name: l.name, inF: cin, outF: cout, count: 1 });
        break;
    }
  }
  // The head pools the last conv's output.
  const lastConv = [...layers].reverse().find((l) => l.kind === 'pointwise')!;
  addDistinct(s.pool, { h: lastConv.outShape[1], c: lastConv.outShape[0] }, (x) => x.h === lastConv.outShape[1] && x.c === lastConv.outShape[0]);
  return s;
}

/** Spatial size of the depthwise output that precedes an SE layer. */
function imageSizeAfterDepthwise(layers: LayerInfo[], se: LayerInfo): number {
  const i = layers.indexOf(se);
  for (let j = i - 1; j >= 0; j--) if (layers[j]!.kind === 'depthwise') return layers[j]!.outShape[1];
  throw new Error(`no depthwise layer before ${se.name}`);
}
