/**
 * MobileNetV3-Small as an ONNX graph (opset 17), float32 or int8 QDQ. The graph takes float32
 * NHWC pixels in [0, 1] (`pixels` [batch, S, S, 3]), transposes to NCHW, normalises (ImageNet
 * mean and std, inside the graph) and returns the logits (`logits` [batch, classes]).
 * - float32: BatchNorm folded into the convolutions (what the int8 model quantizes too).
 * - QDQ: QuantizeLinear / DequantizeLinear pairs carry every int8 tensor of the mobilegrad int8
 *   model with its scale and zero point; weights are int8 initializers dequantized per output
 *   channel (axis 0), biases int32 at scale s_in * s_w; h-swish and h-sigmoid run on the
 *   dequantized pre-activation tensor, then quantize (the 256-entry tables of the int8 model
 *   compute exactly this). docs/quantization.md maps each int8 kernel to these nodes.
 */
import { toPyTorch } from '../models/weights.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../ops/augment.js';
import type { FoldedNet } from '../quant/fold.js';
import { weightShape } from '../quant/float-graph.js';
import { LOGITS, planSteps, preName, usesTable, type NetPlan, type PlanLayer } from '../quant/net-plan.js';
import type { QuantParams } from '../quant/qparams.js';
import type { QuantizedNet } from '../quant/quantize.js';
import { OnnxGraph } from './onnx-builder.js';
import { OnnxType } from './onnx-schema.js';

export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = LOGITS;
export const ONNX_OPSET = 17;

export interface OnnxExportInfo {
  imageSize: number;
  classNames: string[];
  version: string;
}

const layoutOf = (l: PlanLayer) => (l.kind === 'stem' ? 'hwio' : l.kind === 'depthwise' ? 'dw' : l.kind === 'linear' ? 'io' : 'io1x1');

/** PyTorch-layout dims of a layer's weight: OIHW for convolutions, [out, in] for linear layers. */
function onnxDims(l: PlanLayer): number[] {
  if (l.kind === 'stem') return [l.cout, l.cin, l.kernel, l.kernel];
  if (l.kind === 'depthwise') return [l.cout, 1, l.kernel, l.kernel];
  if (l.kind === 'linear' && !l.name.includes('.fc')) return [l.cout, l.cin];
  return [l.cout, l.cin, 1, 1];
}

/** How a layer's weights and bias enter the graph (float initializers, or int8 + DequantizeLinear). */
interface WeightSource {
  weight(l: PlanLayer): string;
  bias(l: PlanLayer, inputName: string): string;
}

/** Quantize-dequantize round trip of a float tensor with int8 parameters. */
type Requantize = (x: string, name: string) => string;

function buildGraph(plan: NetPlan, g: OnnxGraph, info: OnnxExportInfo, src: WeightSource, qdq: Requantize): void {
  const s = info.imageSize;
  const px = g.input(ONNX_INPUT, OnnxType.FLOAT, ['batch', s, s, 3]);
  const nchw = g.node('Transpose', [px], { perm: [0, 3, 1, 2] }, 'nchw');
  const mean = g.init('mean', OnnxType.FLOAT, [1, 3, 1, 1], Float32Array.from(IMAGENET_MEAN));
  const std = g.init('std', OnnxType.FLOAT, [1, 3, 1, 1], Float32Array.from(IMAGENET_STD));
  const norm = g.node('Div', [g.node('Sub', [nchw, mean], {}, 'centred'), std], {}, 'normalized');
  const values = new Map<string, string>([['input', qdq(norm, 'input')]]);
  let flattened = false;
  for (const step of planSteps(plan)) {
    if (step.op === 'pool') {
      values.set(step.output, qdq(g.node('GlobalAveragePool', [values.get(step.input)!]), step.output));
      continue;
    }
    if (step.op === 'se_scale') {
      values.set(step.output, qdq(g.node('Mul', [values.get(step.input)!, values.get(step.gate)!]), step.output));
      continue;
    }
    const l = step.layer;
    let x = values.get(step.input)!;
    let y: string;
    if (l.kind === 'linear' && !l.name.includes('.fc')) {
      if (!flattened) {
        x = g.node('Flatten', [x], { axis: 1 });
        flattened = true;
      }
      y = g.node('Gemm', [x, src.weight(l), src.bias(l, step.input)], { transB: 1 }, l === plan.fc2 ? ONNX_OUTPUT : undefined);
    } else {
      const pad = (l.kernel - 1) / 2;
      y = g.node('Conv', [x, src.weight(l), src.bias(l, step.input)], {
        kernel_shape: [l.kernel, l.kernel], strides: [l.stride, l.stride], pads: [pad, pad, pad, pad], group: l.kind === 'depthwise' ? l.cout : 1,
      });
    }
    if (step.output === LOGITS) {
      values.set(LOGITS, y);
      continue;
    }
    if (step.residual) y = g.node('Add', [y, values.get(step.residual)!]);
    if (usesTable(l)) y = qdq(y, preName(l));
    if (l.activation === 'relu') y = g.node('Relu', [y]);
    else if (l.activation === 'hswish') y = g.node('HardSwish', [y]);
    else if (l.activation === 'hsigmoid') y = g.node('HardSigmoid', [y], { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
    values.set(step.output, qdq(y, step.output));
  }
  g.output(ONNX_OUTPUT, OnnxType.FLOAT, ['batch', plan.numClasses]);
}

function encode(g: OnnxGraph, info: OnnxExportInfo, precision: 'float32' | 'int8-qdq'): Uint8Array {
  return g.encode({
    graphName: `mobilenet_v3_small_${precision}`,
    opset: ONNX_OPSET,
    producerVersion: info.version,
    doc: `MobileNetV3-Small (${precision}) exported by mobilegrad. Input '${ONNX_INPUT}': float32 NHWC pixels in [0, 1], [batch, ${info.imageSize}, ${info.imageSize}, 3]; normalisation is in the graph. Output '${ONNX_OUTPUT}': [batch, ${info.classNames.length}].`,
    metadata: { classes: JSON.stringify(info.classNames), input: ONNX_INPUT, output: ONNX_OUTPUT, precision, image_size: String(info.imageSize) },
  });
}

/** The float32 graph of a folded network. */
export function floatOnnx(net: FoldedNet, info: OnnxExportInfo): Uint8Array {
  const g = new OnnxGraph();
  buildGraph(net.plan, g, info, {
    weight: (l) => g.init(`${l.name}.weight`, OnnxType.FLOAT, onnxDims(l), toPyTorch(layoutOf(l), weightShape(l), net.layers.get(l.name)!.weight)),
    bias: (l) => g.init(`${l.name}.bias`, OnnxType.FLOAT, [l.cout], net.layers.get(l.name)!.bias),
  }, (x) => x);
  return encode(g, info, 'float32');
}

/** The int8 QDQ graph of a quantized network. */
export function qdqOnnx(net: QuantizedNet, info: OnnxExportInfo): Uint8Array {
  const g = new OnnxGraph();
  const scalar = (name: string, p: QuantParams) => [g.init(`${name}.scale`, OnnxType.FLOAT, [], Float32Array.of(p.scale)), g.init(`${name}.zero_point`, OnnxType.INT8, [], Int8Array.of(p.zeroPoint))];
  const qdq: Requantize = (x, name) => {
    const [sc, zp] = scalar(name, net.activations.get(name)!);
    return g.node('DequantizeLinear', [g.node('QuantizeLinear', [x, sc, zp], {}, g.name(`${name}.q`)), sc, zp], {}, g.name(`${name}.dq`));
  };
  buildGraph(net.plan, g, info, {
    weight: (l) => {
      const q = net.layers.get(l.name)!;
      const w = g.init(`${l.name}.weight_q`, OnnxType.INT8, onnxDims(l), Int8Array.from(toPyTorch(layoutOf(l), weightShape(l), Float32Array.from(q.weight))));
      const sc = g.init(`${l.name}.weight_scale`, OnnxType.FLOAT, [l.cout], Float32Array.from(q.weightScale));
      const zp = g.init(`${l.name}.weight_zero_point`, OnnxType.INT8, [l.cout], new Int8Array(l.cout));
      return g.node('DequantizeLinear', [w, sc, zp], { axis: 0 }, g.name(`${l.name}.weight`));
    },
    bias: (l, input) => {
      const q = net.layers.get(l.name)!;
      const sIn = net.activations.get(input)!.scale;
      const b = g.init(`${l.name}.bias_q`, OnnxType.INT32, [l.cout], Int32Array.from(q.bias));
      const sc = g.init(`${l.name}.bias_scale`, OnnxType.FLOAT, [l.cout], Float32Array.from(q.weightScale, (s) => sIn * s));
      const zp = g.init(`${l.name}.bias_zero_point`, OnnxType.INT32, [l.cout], new Int32Array(l.cout));
      return g.node('DequantizeLinear', [b, sc, zp], { axis: 0 }, g.name(`${l.name}.bias`));
    },
  }, qdq);
  return encode(g, info, 'int8-qdq');
}
