/**
 * Gradient clipping by global L2 norm (PyTorch's `clip_grad_norm_`), entirely on the GPU: the norm
 * is reduced into a one-element tensor and the clip coefficient min(1, maxNorm / (norm + 1e-6)) is
 * read by the scaling kernel from GPU memory, so clipping costs no readback and no stall. The norm
 * is returned as a tensor: read it (`await norm.item()`) only when you log it.
 */
import { gradNormFinish, gradScale, gradSumsq, SUMSQ_MAX_GROUPS } from '../../kernels/clip-grad.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel } from '../kernel/run-kernel.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at most `maxNorm`.
 * Parameters without a gradient are skipped. Returns the norm before clipping as a scalar tensor
 * (the caller releases it). A NaN or infinite norm makes the gradients NaN, as in PyTorch.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new MobilegradError(`clipGradNorm: maxNorm must be a positive number, got ${maxNorm}`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null && g.size > 0);
  for (const g of grads) if (g.dtype !== 'f32') throw new MobilegradError(`clipGradNorm: gradient [${g.shape.join(', ')}] is ${g.dtype}; clipping works on f32 gradients`);
  const split = grads.map((g) => Math.max(1, Math.min(SUMSQ_MAX_GROUPS, Math.ceil(g.size / (256 * 16)))));
  const count = Math.max(1, split.reduce((a, b) => a + b, 0));
  const partials = zeros([count]); // zero-filled: with no gradients the norm is 0
  let base = 0;
  grads.forEach((g, i) => {
    runKernel(gradSumsq, { g, partials }, {}, { n: g.size, base, groups: split[i]! });
    base += split[i]!;
  });
  const { norm, coef } = runKernel(gradNormFinish, { parts: partials }, { norm: { shape: [] }, coef: { shape: [1] } }, { count, max_norm: maxNorm });
  partials.release();
  for (const g of grads) runKernel(gradScale, { sg: g, scale: coef! }, {}, { n: g.size });
  coef!.release();
  return norm!;
}
