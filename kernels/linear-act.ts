/** The fused backward of a linear layer with a built-in activation (src/ops/matmul.ts linearAct). */
import source from '../shaders/linear-act.wgsl';
import { grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel } from './vec.js';

/**
 * dz [rows, n] = g * act'(y) and db [n] = sum over rows of dz, from the layer's output y; one
 * thread per column group (vec4 when n % 4 == 0). Override KIND: relu, relu6, hsigmoid or identity.
 */
export const biasActGrad = defineVecKernel({
  name: 'bias_act_grad',
  source,
  entry: 'bias_act_grad',
  inputs: ['la_g', 'la_y'],
  outputs: ['la_dz', 'la_db'],
  uniforms: ['rows', 'nv'],
  workgroups: (u) => grid1d(u.nv!, 8),
  cost: (u, _c, w) => ({ flops: 2 * u.rows! * u.nv! * w, bytes: 4 * w * (3 * u.rows! * u.nv! + u.nv!) }),
});
