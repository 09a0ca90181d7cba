/** Fused in-place parameter updates: SGD, SGD with momentum / Nesterov, Adam and AdamW; per-step values from a scalar buffer. */
import optimizerSource from '../shaders/optimizer.wgsl';
import { defineKernel, grid1d } from '../src/kernel/define-kernel.js';
import { defineVecKernel, type VecKernel } from './vec.js';

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

/**
 * Most parameters one Adam dispatch updates: each takes three storage bindings (gradient,
 * parameter, moments) and the per-step scalars one more, 16 in all (WebGPU's usual most per stage).
 */
export const ADAM_MAX_GROUP = 5;

const range = (n: number) => Array.from({ length: n }, (_, j) => j);

// WGSL for one group size: workgroups [wg_j, wg_{j+1}) update parameter j (wg_0 = 0), 256 elements
// each, so every workgroup works on one parameter and the branch is uniform within it.
function adamGroupSource(count: number): string {
  const fields = [...range(count).flatMap((j) => [`n${j}: u32`, `slot${j}: u32`, `splits${j}: u32`]), ...range(count - 1).map((j) => `wg${j + 1}: u32`), 'beta1: f32', 'beta2: f32', 'eps: f32'];
  const L = [`struct AdamGroupParams { ${fields.join(', ')} }`];
  range(count).forEach((j) => L.push(`@group(0) @binding(${j}) var<storage, read> ag_grad${j}: array<V>;`));
  L.push(`@group(0) @binding(${count}) var<storage, read> ag_scalars: array<f32>;`);
  range(count).forEach((j) => {
    L.push(`@group(0) @binding(${count + 1 + 2 * j}) var<storage, read_write> ag_param${j}: array<V>;`);
    L.push(`@group(0) @binding(${count + 2 + 2 * j}) var<storage, read_write> ag_mv${j}: array<V>;`);
  });
  L.push(`@group(0) @binding(${3 * count + 1}) var<uniform> agp: AdamGroupParams;`);
  L.push('', '@compute @workgroup_size(256)');
  L.push('fn adam_group(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {');
  L.push('  let wg = wid.y * nwg.x + wid.x;');
  range(count).forEach((j) => {
    const last = j === count - 1;
    L.push(last ? '  {' : `  if (wg < agp.wg${j + 1}) {`);
    L.push(`    let i = (wg${j > 0 ? ` - agp.wg${j}` : ''}) * 256u + lid;`);
    L.push(`    if (i >= agp.n${j}) { return; }`);
    L.push(`    var g = ag_grad${j}[i];`);
    L.push(`    for (var q = 1u; q < agp.splits${j}; q++) { g += ag_grad${j}[q * agp.n${j} + i]; }`);
    L.push(`    let s = agp.slot${j} * 4u;`);
    L.push(`    let sc = vec4f(ag_scalars[s], ag_scalars[s + 1u], ag_scalars[s + 2u], ag_scalars[s + 3u]);`);
    L.push(`    let r = adam_update(ag_param${j}[i], g, ag_mv${j}[i], ag_mv${j}[agp.n${j} + i], sc, agp.beta1, agp.beta2, agp.eps);`);
    L.push(`    ag_param${j}[i] = r.p;`);
    L.push(`    ag_mv${j}[i] = r.m;`);
    L.push(`    ag_mv${j}[agp.n${j} + i] = r.v;`);
    L.push('    return;');
    L.push('  }');
  });
  L.push('}');
  return L.join('\n');
}

const adamGroups = new Map<number, VecKernel>();

/**
 * Adam / AdamW over `count` parameters in one dispatch (1 to ADAM_MAX_GROUP; multi-tensor apply);
 * `.v4` when every size is a multiple of 4 (uniforms n_j count vec4s). Inputs per parameter j:
 * `ag_grad{j}` (the gradient, or its `splits{j}` partial sums), `ag_param{j}`, `ag_mv{j}` (the
 * moments, [m; v]); `ag_scalars` holds the per-step values at `slot{j} * 4`.
 */
export function adamGroupKernel(count: number): VecKernel {
  if (!(count >= 1 && count <= ADAM_MAX_GROUP)) throw new Error(`adamGroupKernel: ${count} parameters per dispatch (1-${ADAM_MAX_GROUP})`);
  let k = adamGroups.get(count);
  if (!k) {
    const names = (f: string) => range(count).map((j) => `${f}${j}`);
    k = defineVecKernel({
      name: count === 1 ? 'adam_step' : `adam_step${count}`,
      source: optimizerSource + '\n' + adamGroupSource(count),
      entry: 'adam_group',
      inputs: [...names('ag_grad'), 'ag_scalars'],
      outputs: [],
      inouts: range(count).flatMap((j) => [`ag_param${j}`, `ag_mv${j}`]),
      uniforms: [...names('n'), ...names('slot'), ...names('splits'), ...range(count - 1).map((j) => `wg${j + 1}`), 'beta1', 'beta2', 'eps'],
      workgroups: (u) => grid1d((range(count).reduce((t, j) => t + Math.ceil(u[`n${j}`]! / 256), 0)) * 256, 256),
      // Reads param, grad (its partial sums), m, v and writes param, m, v; a nominal 12 FLOPs per element.
      cost: (u, _c, w) => ({
        flops: range(count).reduce((t, j) => t + 12 * w * u[`n${j}`]!, 0),
        bytes: range(count).reduce((t, j) => t + (24 + 4 * u[`splits${j}`]!) * w * u[`n${j}`]!, 0),
      }),
    });
    adamGroups.set(count, k);
  }
  return k;
}
