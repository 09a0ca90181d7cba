/** Softmax cross-entropy with per-class weights: per-row loss and weight, their weighted mean, the gradient. */
import source from '../shaders/weighted-cross-entropy.wgsl';
import { defineKernel, gridFor } from '../src/kernel/define-kernel.js';

const rowUniforms = ['rows', 'k', 'smoothing'] as const;

/** One workgroup per row. */
const perRow = (u: Record<string, number>) => gridFor(u.rows!);

export const weightedCrossEntropyForward = defineKernel({
  name: 'weighted_cross_entropy_forward', source, entry: 'wce_forward',
  inputs: ['wf_logits', 'wf_labels', 'wf_weights'], outputs: ['wf_row_loss', 'wf_row_w'], uniforms: rowUniforms, workgroups: perRow,
});

export const weightedCrossEntropyMean = defineKernel({
  name: 'weighted_cross_entropy_mean', source, entry: 'wce_mean',
  inputs: ['wm_row_loss', 'wm_row_w'], outputs: ['wm_loss', 'wm_wsum'], uniforms: ['n'], workgroups: () => [1, 1, 1],
});

export const weightedCrossEntropyBackward = defineKernel({
  name: 'weighted_cross_entropy_backward', source, entry: 'wce_backward',
  inputs: ['wb_logits', 'wb_labels', 'wb_weights', 'wb_wsum', 'wb_g'], outputs: ['wb_dlogits'], uniforms: rowUniforms, workgroups: perRow,
});
