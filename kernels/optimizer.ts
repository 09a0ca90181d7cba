/** Fused in-place parameter updates: SGD, SGD with momentum / Nesterov, Adam and AdamW; per-step values from a scalar buffer. */
import optimizerSource from '../shaders/optimizer.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

// The SGD kernels are scalar; the Adam section uses V (kernels/vec.ts), f32 here.
const source = `alias V = f32;\n${optimizerSource}`;

const grid = (u: Record<string, number>) => grid1d(u.n!, 256);

export const sgdStep = defineKernel({
  name: 'sgd_step', source, entry: 'sgd',
  inputs: ['sg_grad', 'sg_scalars'], outputs: [], inouts: ['sg_param'], uniforms: ['n', 'slot'], workgroups: grid,
});

export const sgdMomentumStep = defineKernel({
  name: 'sgd_momentum_step', source, entry: 'sgd_momentum',
  inputs: ['sm_grad', 'sm_scalars'], outputs: [], inouts: ['sm_param', 'sm_buf'],
  uniforms: ['n', 'momentum', 'nesterov', 'slot'], workgroups: grid,
});

/** Adam / AdamW over one parameter; `.v4` for sizes in fours (uniform n counts vec4s). */
export const adamStep = defineVecKernel({
  name: 'adam_step', source: optimizerSource, entry: 'adam',
  inputs: ['ad_grad', 'ad_scalars'], outputs: [], inouts: ['ad_param', 'ad_m', 'ad_v'],
  uniforms: ['n', 'beta1', 'beta2', 'eps', 'slot', 'splits'], workgroups: grid,
  // Reads param, grad (its partial sums), m, v and writes param, m, v; a nominal 12 FLOPs per element.
  cost: (u, _c, w) => ({ flops: 12 * w * u.n!, bytes: (24 + 4 * u.splits!) * w * u.n! }),
});

/** Adam / AdamW over three parameters at once (one dispatch instead of three); `.v4` when all three sizes are in fours. */
export const adamStep3 = defineVecKernel({
  name: 'adam_step3', source: optimizerSource, entry: 'adam3',
  inputs: ['a3_grad0', 'a3_grad1', 'a3_grad2', 'a3_scalars'], outputs: [],
  inouts: ['a3_param0', 'a3_m0', 'a3_v0', 'a3_param1', 'a3_m1', 'a3_v1', 'a3_param2', 'a3_m2', 'a3_v2'],
  uniforms: ['n0', 'n1', 'n2', 'slot0', 'slot1', 'slot2', 'wg1', 'wg2', 'beta1', 'beta2', 'eps', 'splits0', 'splits1', 'splits2'],
  workgroups: (u) => grid1d((u.wg2! + Math.ceil(u.n2! / 256)) * 256, 256),
  cost: (u, _c, w) => ({
    flops: 12 * w * (u.n0! + u.n1! + u.n2!),
    bytes: w * ((24 + 4 * u.splits0!) * u.n0! + (24 + 4 * u.splits1!) * u.n1! + (24 + 4 * u.splits2!) * u.n2!),
  }),
});

/** Storage bindings adamStep3 needs. */
export const ADAM_STEP3_BINDINGS = 13;
