/**
 * The inference epilogue shared by the convolution kernels (stem conv, depthwise, pointwise GEMMs):
 * BatchNorm with the running statistics, an activation and a residual add applied to each output
 * vec4 as it is stored, so an evaluation-mode Conv-BN-activation(-add) is one dispatch and one
 * write of its output instead of two to four (src/ops/conv-bn-act.ts).
 *
 * WGSL has no includes, so a kernel's source ends with one of two versions of `epi_coef` and
 * `epi` (below):
 * - plain: the identity; the compiler inlines it away, and the kernel has no extra bindings;
 * - fused: reads gamma, beta, running mean and variance (and the residual) from five bindings
 *   starting at `firstBinding`.
 * Both are declared as separate kernels from one source, so training's kernels bind nothing more.
 * Override constants of the fused version: EPI_ACT (kernels/activation.ts codes), EPI_RES
 * (add the residual), EPI_EPS (BatchNorm's epsilon).
 */

import { activationWgsl } from './activation.js';

/** Names of the fused epilogue's storage bindings, in binding order. */
export const EPILOGUE_INPUTS = ['ep_gamma', 'ep_beta', 'ep_mean', 'ep_var', 'ep_res'] as const;

/**
 * WGSL for the epilogue, in two steps so a thread computes each channel group's coefficients once
 * and not per stored element:
 * - `fn epi_coef(g: u32) -> EpiCoef`: BatchNorm's scale and shift of channel group g;
 * - `fn epi(v: T, c: EpiCoef, o: u32) -> T`: v * scale + shift, the activation, plus element o of
 *   the residual.
 * @param type the element type the kernel stores (`V` for kernels compiled at two widths, or `vec4f`)
 * @param firstBinding first free binding number in group 0 (fused version only)
 * @param fused plain identity (false) or BatchNorm + activation + residual (true)
 */
export function epilogueWgsl(type: string, firstBinding: number, fused: boolean): string {
  const T = type;
  const coef = `struct EpiCoef { scale: ${T}, shift: ${T} }`;
  if (!fused) {
    return `
${coef}
fn epi_coef(ep_g: u32) -> EpiCoef { return EpiCoef(${T}(1.0), ${T}(0.0)); }
fn epi(ep_v: ${T}, ep_c: EpiCoef, ep_o: u32) -> ${T} { return ep_v; }
`;
  }
  const b = (i: number) => `@group(0) @binding(${firstBinding + i})`;
  return `
// ---- inference epilogue (kernels/epilogue.ts) ----
override EPI_ACT: u32 = 4u;
override EPI_RES: bool = false;
override EPI_EPS: f32 = 0.001;
${b(0)} var<storage, read> ep_gamma: array<${T}>;
${b(1)} var<storage, read> ep_beta: array<${T}>;
${b(2)} var<storage, read> ep_mean: array<${T}>;
${b(3)} var<storage, read> ep_var: array<${T}>;
${b(4)} var<storage, read> ep_res: array<${T}>;
${coef}

// BatchNorm in evaluation as v * scale + shift (scale = gamma / sqrt(var + eps)).
fn epi_coef(ep_g: u32) -> EpiCoef {
  let scale = ep_gamma[ep_g] / sqrt(ep_var[ep_g] + EPI_EPS);
  return EpiCoef(scale, ep_beta[ep_g] - ep_mean[ep_g] * scale);
}

// Parameter names are prefixed: wgsl_reflect would take a parameter named like a kernel's
// binding (\`c\` in shaders/matmul.wgsl) for a use of that binding.
fn epi(ep_v: ${T}, ep_c: EpiCoef, ep_o: u32) -> ${T} {
  var r = epi_act(fma(ep_v, ep_c.scale, ep_c.shift));
  if (EPI_RES) { r += ep_res[ep_o]; }
  return r;
}
${activationWgsl('epi_act', T, 'EPI_ACT')}`;
}
