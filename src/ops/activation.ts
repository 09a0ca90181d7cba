/**
 * Nonlinearities, declared through `defineOp` like a user's op: the WGSL in shaders/activation.wgsl
 * holds the forward and the derivative, selected by the `kind` attribute.
 */
import source from '../../shaders/activation.wgsl';
import { Activation, type ActivationName } from '../../kernels/activation.js';
import { MobilegradError } from '../device/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp } from './define-op.js';

const F32 = 4;

/** The activation op itself: `activationOp(x, { kind: Activation.hswish })`. */
export const activationOp = defineOp({
  name: 'activation',
  inputs: ['x'],
  attrs: { kind: Activation.relu as number },
  check: (_, a) => (Number.isInteger(a.kind) && a.kind >= 0 && a.kind <= 4 ? undefined : `unknown activation kind ${a.kind} (0-4)`),
  forward: { source, entry: 'forward', cost: (u) => ({ flops: u.n!, bytes: 2 * F32 * u.n! }) },
  // The backward entry point names its bindings bx / dy / dx (one WGSL module, distinct names).
  backward: { source, entry: 'backward', bind: { bx: 'x' }, cost: (u) => ({ flops: u.n!, bytes: 3 * F32 * u.n! }) },
  bench: [
    { inputs: { x: [32, 28, 28, 96] }, attrs: { kind: Activation.hswish } },
  ],
});

/** Applies a named activation (`relu`, `relu6`, `hswish`, `hsigmoid`, `identity`). */
export function activation(x: Tensor, name: ActivationName): Tensor {
  const kind = Activation[name];
  if (kind === undefined) throw new MobilegradError(`activation: unknown activation '${name}' (${Object.keys(Activation).join(', ')})`);
  return activationOp(x, { kind });
}

export const relu = (x: Tensor) => activation(x, 'relu');
export const relu6 = (x: Tensor) => activation(x, 'relu6');
export const hswish = (x: Tensor) => activation(x, 'hswish');
export const hsigmoid = (x: Tensor) => activation(x, 'hsigmoid');
