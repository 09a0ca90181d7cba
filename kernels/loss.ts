/** Softmax, softmax cross-entropy (per-row loss, gradient) and the mean of the row losses. */
import source from '../shaders/loss.wgsl';
import { defineKernel, gridFor } from '../src/kernel/define-kernel.js';

const rowUniforms = ['rows', 'k', 'smoothing', 'scale'] as const;

/** One workgroup per row. */
const perRow = (u: Record<string, number>) => gridFor(u.rows!);

export const crossEntropyForward = defineKernel({
  name: 'cross_entropy_forward', source, entry: 'ce_forward',
  inputs: ['ce_logits', 'ce_labels'], outputs: ['row_loss'], uniforms: rowUniforms, workgroups: perRow,
});

export const crossEntropyBackward = defineKernel({
  name: 'cross_entropy_backward', source, entry: 'ce_backward',
  inputs: ['cb_logits', 'cb_labels', 'cb_g'], outputs: ['dlogits'], uniforms: rowUniforms, workgroups: perRow,
});

export const rowMean = defineKernel({
  name: 'row_mean', source, entry: 'row_mean',
  inputs: ['mean_in'], outputs: ['mean_out'], uniforms: ['n', 'inv_n'], workgroups: () => [1, 1, 1],
});

export const softmaxForward = defineKernel({
  name: 'softmax_forward', source, entry: 'softmax_forward',
  inputs: ['sm_x'], outputs: ['sm_y'], uniforms: rowUniforms, workgroups: perRow,
});

export const softmaxBackward = defineKernel({
  name: 'softmax_backward', source, entry: 'softmax_backward',
  inputs: ['sb_y', 'sb_dy'], outputs: ['sb_dx'], uniforms: rowUniforms, workgroups: perRow,
});
