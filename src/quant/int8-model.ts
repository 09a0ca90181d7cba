/**
 * The int8 MobileNetV3-Small on the GPU: weights uploaded once in the kernels' layouts, the whole
 * forward in int8 kernels (activations packed four to a u32), float logits at the end.
 * `mg.loadModel` returns one of these for an int8 model folder.
 */
import { MobilegradError } from '../device/errors.js';
import { uploadImages } from '../ops/augment.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { int8Depthwise, int8Gemm, int8Pool, int8SeScale, int8Stem, quantizeImages, type Requant } from './int8-ops.js';
import { inputTable, layerKernelParams, type LayerKernelParams } from './kernel-params.js';
import { LOGITS, planSteps, type PlanStep } from './net-plan.js';
import type { QuantizedNet } from './quantize.js';

interface GpuLayer {
  params: LayerKernelParams;
  weight: Tensor;
  requant: Requant;
}

/** Sees each int8 tensor of the forward by name (for the per-layer SQNR table). */
export type Int8Tap = (name: string, t: Tensor) => void;

export class Int8Model {
  readonly numClasses: number;
  readonly precision = 'int8' as const;
  /** Always false: an int8 model only infers (kept for the evaluation helpers). */
  training = false;
  private readonly steps: PlanStep[];
  private readonly layers = new Map<string, GpuLayer>();
  private readonly inputTable: Tensor;
  private released = false;

  constructor(readonly net: QuantizedNet) {
    this.numClasses = net.plan.numClasses;
    this.steps = planSteps(net.plan);
    for (const s of this.steps) {
      if (s.op !== 'layer') continue;
      const p = layerKernelParams(net, s);
      this.layers.set(s.layer.name, {
        params: p,
        weight: tensor(p.weight, p.weightShape, { dtype: 'i8x4' }),
        requant: {
          bias: tensor(p.bias, [p.bias.length], { dtype: 'i32' }),
          mult: tensor(p.mult, [p.mult.length]),
          table: p.table ? tensor(p.table, [256], { dtype: 'i32' }) : undefined,
          zp: p.zp,
          lo: p.lo,
        },
      });
    }
    this.inputTable = tensor(inputTable(this.q('input')), [768], { dtype: 'i32' });
  }

  private q(name: string) {
    const p = this.net.activations.get(name);
    if (!p) throw new MobilegradError(`int8 model: no quantization parameters for '${name}'`);
    return p;
  }

  eval(): void {}
  train(): void {
    throw new MobilegradError('an int8 model cannot be trained; quantization-aware training starts from the float model (--qat-epochs)');
  }

  /** Logits [n, classes] (float32) for packed 8-bit RGB images (`uploadImages`) of `size` x `size`. */
  logitsFromPixels(pixels: Tensor, n: number, size: number, tap?: Int8Tap): Tensor {
    if (this.released) throw new MobilegradError('int8 model was released');
    return tidy(() => {
      const values = new Map<string, Tensor>();
      const set = (name: string, t: Tensor) => {
        values.set(name, t);
        tap?.(name, t);
      };
      set('input', quantizeImages(pixels, n, size, this.inputTable, this.q('input').zeroPoint));
      for (const s of this.steps) {
        if (s.op === 'pool') {
          const x = values.get(s.input)!;
          const hw = x.shape[1]! * x.shape[2]!;
          const px = this.q(s.input);
          const py = this.q(s.output);
          set(s.output, int8Pool(x, px.zeroPoint, py.zeroPoint, Math.fround(px.scale / (hw * py.scale))));
        } else if (s.op === 'se_scale') {
          const px = this.q(s.input);
          const pg = this.q(s.gate);
          const py = this.q(s.output);
          set(s.output, int8SeScale(values.get(s.input)!, values.get(s.gate)!, { zx: px.zeroPoint, zg: pg.zeroPoint, zp: py.zeroPoint, mult: Math.fround((px.scale * pg.scale) / py.scale) }));
        } else {
          set(s.output, this.runLayer(s, values));
        }
      }
      return values.get(LOGITS)!;
    });
  }

  /** Logits for 8-bit RGB images already at the model's size, NHWC bytes [n, size, size, 3]. */
  logitsFromBytes(bytes: Uint8Array, n: number, size: number): Tensor {
    const px = uploadImages(bytes, n, size);
    const y = this.logitsFromPixels(px, n, size);
    px.release();
    return y;
  }

  private runLayer(s: Extract<PlanStep, { op: 'layer' }>, values: Map<string, Tensor>): Tensor {
    const g = this.layers.get(s.layer.name)!;
    const x = values.get(s.input)!;
    const l = s.layer;
    if (l.kind === 'stem') return int8Stem(x, g.weight, g.requant, { stride: l.stride, zx: g.params.zx });
    if (l.kind === 'depthwise') return int8Depthwise(x, g.weight, g.requant, { stride: l.stride, zx: g.params.zx });
    const res = s.residual && g.params.residual ? { x: values.get(s.residual)!, ...g.params.residual } : undefined;
    return int8Gemm(x, g.weight, g.requant, { floatOut: g.params.floatOut, residual: res });
  }

  /** Frees the GPU weights. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const g of this.layers.values()) {
      g.weight.release();
      g.requant.bias.release();
      g.requant.mult.release();
      g.requant.table?.release();
    }
    this.inputTable.release();
  }
}
