/**
 * Fake quantization ops for quantization-aware training: the float32 values the int8 model would
 * compute with, and straight-through gradients (Bengio et al. 2013; Jacob et al. 2018).
 */
import { channelAbsMax, fakeQuantBackward, fakeQuantChannels, fakeQuantForward } from '../../kernels/int8-fakequant.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import type { QuantParams } from './qparams.js';

/**
 * Activations: y = (clamp(roundEven(x / s) + zp, -128, 127) - zp) * s. The gradient passes where
 * x lies inside the representable range and is zero where it clips.
 */
export function fakeQuant(x: Tensor, p: QuantParams): Tensor {
  if (x.dtype !== 'f32') throw new MobilegradError(`fakeQuant: x must be f32, got ${x.dtype}`);
  const u = { n: x.size, scale: p.scale, zp: p.zeroPoint, lo: -128, hi: 127 };
  const y = runKernel1(fakeQuantForward, { fq_x: x }, { shape: x.shape }, u);
  return attach(y, 'fakeQuant', [x], (g) => [x.requiresGrad ? runKernel1(fakeQuantBackward, { fb_x: x, fb_g: g }, { shape: x.shape }, u) : null]);
}

/**
 * Weights: symmetric int8 per output channel (the innermost axis, `channels` of them), scale from
 * the tensor's own per-channel maximum, as the quantizer computes it. Gradient: the identity.
 */
export function fakeQuantChannelsOp(w: Tensor, channels: number): Tensor {
  if (w.dtype !== 'f32' || w.size % channels !== 0) throw new MobilegradError(`fakeQuantChannels: w [${w.shape.join(', ')}] is not f32 with ${channels} channels innermost`);
  const m = runKernel1(channelAbsMax, { am_w: w }, { shape: [channels] }, { rows: w.size / channels, c: channels });
  const y = runKernel1(fakeQuantChannels, { fc_w: w, fc_m: m }, { shape: w.shape }, { n: w.size, c: channels });
  m.release();
  return attach(y, 'fakeQuantChannels', [w], (g) => [g]);
}
