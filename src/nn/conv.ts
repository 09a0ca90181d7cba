/**
 * Convolution layers in NHWC. One class covers the three kinds MobileNetV3 uses, chosen from the
 * arguments as torchvision's nn.Conv2d would be configured:
 * - depthwise (groups == in == out): weight [k, k, C], the depthwise kernel;
 * - pointwise (1x1, stride 1, groups 1): weight [Cin, Cout], a GEMM;
 * - general: weight [kh, kw, Cin, Cout] (the 3x3 stride-2 stem).
 */
import { MobilegradError } from '../device/errors.js';
import { add } from '../ops/elementwise.js';
import { conv2d, depthwiseConv2d, pointwiseConv2d } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant, kaimingNormalFanOut } from './init.js';
import { Module } from './module.js';

export interface Conv2dOptions {
  stride?: number;
  /** Default: kernel // 2 ("same" for odd kernels at stride 1). */
  padding?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly kind: 'depthwise' | 'pointwise' | 'general';
  readonly stride: number;
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: Conv2dOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? Math.floor(kernel / 2);
    const groups = options.groups ?? 1;
    // torchvision: kaiming_normal_(mode="fan_out"), fan_out = out * kh * kw / groups... computed
    // by PyTorch as weight.size(0) * receptive field, i.e. out * k * k.
    const fanOut = outChannels * kernel * kernel;
    if (groups === inChannels && groups === outChannels && groups > 1) {
      this.kind = 'depthwise';
      this.addParameter('weight', kaimingNormalFanOut([kernel, kernel, outChannels], fanOut), 'dw');
    } else if (groups !== 1) {
      throw new MobilegradError(`Conv2d: groups=${groups} is supported only as depthwise (groups == in == out channels)`);
    } else if (kernel === 1 && this.stride === 1 && this.padding === 0) {
      this.kind = 'pointwise';
      this.addParameter('weight', kaimingNormalFanOut([inChannels, outChannels], fanOut), 'io1x1');
    } else {
      this.kind = 'general';
      this.addParameter('weight', kaimingNormalFanOut([kernel, kernel, inChannels, outChannels], fanOut), 'hwio');
    }
    if (options.bias) this.addParameter('bias', constant([outChannels], 0), 'same');
  }

  /** The weight tensor (layout by kind, see the class comment). */
  get weight(): Tensor {
    return this.tensorOf('weight');
  }

  /** Whether the layer has a bias parameter. */
  get hasBias(): boolean {
    return this.namedParameters().some(([n]) => n === 'bias');
  }

  forward(x: Tensor): Tensor {
    const w = this.tensorOf('weight');
    let y: Tensor;
    if (this.kind === 'depthwise') y = depthwiseConv2d(x, w, { stride: this.stride, padding: this.padding });
    else if (this.kind === 'pointwise') y = pointwiseConv2d(x, w);
    else y = conv2d(x, w, { stride: this.stride, padding: this.padding });
    if (this.namedParameters().some(([n]) => n === 'bias')) y = add(y, this.tensorOf('bias'));
    return y;
  }
}
