/** ReLU, ReLU6, h-swish, h-sigmoid: forward and derivative. */
import source from '../shaders/activation.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';

/** Activation codes shared by every kernel that fuses an activation. */
export const Activation = { relu: 0, relu6: 1, hswish: 2, hsigmoid: 3, identity: 4 } as const;
export type ActivationName = keyof typeof Activation;

export const activationForward = defineKernel({
  name: 'activation_forward',
  source,
  entry: 'forward',
  inputs: ['x'],
  outputs: ['y'],
  uniforms: ['n', 'kind'],
  workgroups: (u) => grid1d(u.n!, 256),
});

export const activationBackward = defineKernel({
  name: 'activation_backward',
  source,
  entry: 'backward',
  inputs: ['bx', 'dy'],
  outputs: ['dx'],
  uniforms: ['n', 'kind'],
  workgroups: (u) => grid1d(u.n!, 256),
});
