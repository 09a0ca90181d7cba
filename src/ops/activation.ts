/** Nonlinearities: forward kernel and backward rule side by side. */
import { Activation, activationBackward, activationForward, type ActivationName } from '../../kernels/activation.js';
import { attach } from '../autograd/graph.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';

/** Applies a named activation (`relu`, `relu6`, `hswish`, `hsigmoid`, `identity`). */
export function activation(x: Tensor, name: ActivationName): Tensor {
  const kind = Activation[name];
  const y = runKernel1(activationForward, { x }, { shape: x.shape }, { n: x.size, kind });
  return attach(y, name, [x], (g) => [runKernel1(activationBackward, { bx: x, dy: g }, { shape: x.shape }, { n: x.size, kind })]);
}

export const relu = (x: Tensor) => activation(x, 'relu');
export const relu6 = (x: Tensor) => activation(x, 'relu6');
export const hswish = (x: Tensor) => activation(x, 'hswish');
export const hsigmoid = (x: Tensor) => activation(x, 'hsigmoid');
