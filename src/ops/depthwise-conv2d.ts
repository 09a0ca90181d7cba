/** Depthwise 2-D convolution: forward kernel and backward rule (input and weight gradients) side by side. */
import { depthwiseBackwardW, depthwiseBackwardX, depthwiseForward } from '../../kernels/depthwise-conv2d.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { convGeometry, forwardBlock, inputGradBlock, weightGrad, type Conv2dOptions } from './conv2d.js';

/**
 * Depthwise 2-D convolution (each channel with its own KxK filter, no bias), with autograd.
 * @param x input [N, H, W, C] (NHWC)
 * @param w weights [K, K, C]
 * @param options stride and zero padding (defaults 1 and 0; MobileNet uses padding K//2)
 * @returns [N, Ho, Wo, C] with Ho = floor((H + 2*padding - K) / stride) + 1 (Wo likewise)
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const shapes = `x [${x.shape.join(', ')}], w [${w.shape.join(', ')}]`;
  if (x.shape.length !== 4) throw new MobilegradError(`depthwiseConv2d: x must be NHWC [N, H, W, C], got ${shapes}`);
  if (w.shape.length !== 3 || w.shape[0] !== w.shape[1]) throw new MobilegradError(`depthwiseConv2d: w must be [K, K, C], got ${shapes}`);
  if (x.dtype !== 'f32' || w.dtype !== 'f32') throw new MobilegradError(`depthwiseConv2d: x and w must be f32, got ${x.dtype} and ${w.dtype} (${shapes})`);
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [k, , wc] = w.shape as [number, number, number];
  if (wc !== c) throw new MobilegradError(`depthwiseConv2d: weight channels ${wc} do not match the input's ${c} (${shapes})`);
  const { stride, padding, ho, wo } = convGeometry('depthwiseConv2d', h, wd, k, k, options, shapes);
  // Eight columns per thread cut the input loads per output (the row cache is shared by more
  // outputs); narrow maps keep four so fewer lanes compute past the row's end.
  const owb = forwardBlock(k, stride, 48, wo >= 8 ? 8 : 4);
  const dims = { n, h, w: wd, c, ho, wo };
  const y = runKernel1(depthwiseForward, { x, wt: w }, { shape: [n, ho, wo, c] }, { ...dims, pad: padding, wob: Math.ceil(wo / owb) }, {
    constants: { K: k, S: stride, OWB: owb },
  });
  return attach(y, 'depthwiseConv2d', [x, w], (g) => {
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const b = inputGradBlock(k, stride, padding);
      dx = runKernel1(depthwiseBackwardX, { dy: g, dwt: w }, { shape: x.shape }, { ...dims, iwb: Math.ceil(wd / b.iwb) }, {
        constants: { K: k, S: stride, IWB: b.iwb, PAD: padding, LO: b.lo, DT: b.dt },
      });
    }
    const dw = w.requiresGrad ? weightGrad(depthwiseBackwardW, { gx: x, gdy: g }, w.shape, n * ho, k * c, { ...dims, pad: padding, k }, { K: k, S: stride }) : null;
    return [dx, dw];
  });
}
