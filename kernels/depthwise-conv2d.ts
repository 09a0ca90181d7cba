/**
 * Depthwise 2-D convolution (NHWC input, [K,K,C] weights): forward, input gradient, weight gradient
 * partial sums. Each comes at two widths (kernels/vec.ts): vec4 over channels when C % 4 == 0,
 * scalar otherwise; uniform `cv` is C in elements of that width.
 */
import dwSource from '../shaders/depthwise-conv2d.wgsl';
import { grid1d, type Uniforms } from '../src/kernel/define-kernel.js';
import { EPILOGUE_INPUTS, epilogueWgsl } from './epilogue.js';
import { defineVecKernel, type VecKernelSpec } from './vec.js';

// The forward stores through `epi` (kernels/epilogue.ts): the identity here, the fused one in depthwiseForwardEpi.
const source = dwSource + epilogueWgsl('V', 8, false);

/** Multiply-adds x 2 of one depthwise convolution (each gradient costs as much as the forward). */
const dwFlops = (u: Uniforms, c: Readonly<Record<string, number>>, w: number) => 2 * u.n! * u.ho! * u.wo! * u.cv! * w * c.K! * c.K!;
const dwBytes = (u: Uniforms, c: Readonly<Record<string, number>>, w: number, splits = 1) =>
  4 * w * (u.n! * u.h! * u.w! * u.cv! + splits * c.K! * c.K! * u.cv! + u.n! * u.ho! * u.wo! * u.cv!);

/** Override constants: K, S, OHB, OWB. One thread per (n, block of OHB rows x OWB columns, channel group). */
const forwardSpec: VecKernelSpec = {
  name: 'depthwise_conv2d_forward',
  source,
  entry: 'forward',
  inputs: ['x', 'wt'],
  outputs: ['y'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'pad', 'wob', 'hob'],
  workgroups: (u) => grid1d(u.n! * u.hob! * u.wob! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w) }),
};
export const depthwiseForward = defineVecKernel(forwardSpec);

/** depthwiseForward with the inference epilogue (kernels/epilogue.ts: BatchNorm, activation). */
export const depthwiseForwardEpi = defineVecKernel({
  ...forwardSpec,
  name: 'depthwise_conv2d_forward_epi',
  source: dwSource + epilogueWgsl('V', 8, true),
  inputs: ['x', 'wt', ...EPILOGUE_INPUTS],
});

/** Override constants: K, S, IHB, IWB, PAD, LO, DT. One thread per (n, block of IHB rows x IWB columns, channel group). */
export const depthwiseBackwardX = defineVecKernel({
  name: 'depthwise_conv2d_backward_x',
  source,
  entry: 'backward_x',
  inputs: ['dy', 'dwt'],
  outputs: ['dx'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'iwb', 'ihb'],
  workgroups: (u) => grid1d(u.n! * u.ihb! * u.iwb! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w) }),
});

/** Override constants: K, S. One thread per (split, ky, channel group); output [splits, K, K, C]. */
export const depthwiseBackwardW = defineVecKernel({
  name: 'depthwise_conv2d_backward_w',
  source,
  entry: 'backward_w',
  inputs: ['gx', 'gdy'],
  outputs: ['part'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'pad', 'chunk', 'splits', 'k'],
  workgroups: (u) => grid1d(u.splits! * u.k! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w, u.splits!) }),
});

/**
 * Sliding weight gradient (windows up to 5x5): override constants K, S, OWB. One thread per (split,
 * strip of OWB output columns, channel group), all K*K taps; output [nsp * wob, K, K, C] partials.
 */
export const depthwiseBackwardWSlide = defineVecKernel({
  name: 'depthwise_conv2d_backward_w_slide',
  source,
  entry: 'backward_w_slide',
  inputs: ['ux', 'udy'],
  outputs: ['upart'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'pad', 'wob', 'nsp', 'nch', 'rpt', 'ipt', 'm0', 'mend'],
  workgroups: (u) => grid1d(u.nsp! * u.wob! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w, u.nsp! * u.wob!) }),
});

/**
 * Sliding-window forward (windows up to 5x5): override constants K, S, OHB, OWB (and FLIP, which
 * rotates the window: the stride-1 input gradient). One thread per (n, chunk of `rpt` blocks of
 * OHB rows, OWB columns, channel group).
 */
const slideSpec: VecKernelSpec = {
  name: 'depthwise_conv2d_forward_slide',
  source,
  entry: 'forward_slide',
  inputs: ['sx', 'swt'],
  outputs: ['sy'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'pad', 'wob', 'nch', 'rpt'],
  workgroups: (u) => grid1d(u.n! * u.nch! * u.wob! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w) }),
};
export const depthwiseForwardSlide = defineVecKernel(slideSpec);

/** depthwiseForwardSlide with the inference epilogue. */
export const depthwiseForwardSlideEpi = defineVecKernel({
  ...slideSpec,
  name: 'depthwise_conv2d_forward_slide_epi',
  source: dwSource + epilogueWgsl('V', 8, true),
  inputs: ['sx', 'swt', ...EPILOGUE_INPUTS],
});

/** Sliding-window input gradient (windows up to 5x5): override constants K, S, IHB, IWB, PAD, LO, DTR, DTC. */
export const depthwiseBackwardXSlide = defineVecKernel({
  name: 'depthwise_conv2d_backward_x_slide',
  source,
  entry: 'backward_x_slide',
  inputs: ['tdy', 'twt'],
  outputs: ['tdx'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'iwb', 'nch', 'rpt'],
  workgroups: (u) => grid1d(u.n! * u.nch! * u.iwb! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w) }),
});

/**
 * Small maps (at most 16 input positions, windows up to 5x5): override constants K, S, SMH, SMW,
 * SMHO, SMWO, SMPAD (map sizes and padding, so padded taps compile away) and FLIP. One thread per
 * (n, channel group) computes the whole output.
 */
const smallSpec: VecKernelSpec = {
  name: 'depthwise_conv2d_forward_small',
  source,
  entry: 'forward_small',
  inputs: ['mx', 'mwt'],
  outputs: ['my'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo'],
  workgroups: (u) => grid1d(u.n! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w) }),
};
export const depthwiseForwardSmall = defineVecKernel(smallSpec);

/** depthwiseForwardSmall with the inference epilogue. */
export const depthwiseForwardSmallEpi = defineVecKernel({
  ...smallSpec,
  name: 'depthwise_conv2d_forward_small_epi',
  source: dwSource + epilogueWgsl('V', 8, true),
  inputs: ['mx', 'mwt', ...EPILOGUE_INPUTS],
});

/**
 * Weight gradient over small maps (as depthwiseForwardSmall, stride any, no FLIP): override
 * constants K, S, SMH, SMW, SMHO, SMWO, SMPAD. One thread per (split of `ipt` images, channel
 * group); output [splits, K, K, C] partial sums.
 */
export const depthwiseBackwardWSmall = defineVecKernel({
  name: 'depthwise_conv2d_backward_w_small',
  source,
  entry: 'backward_w_small',
  inputs: ['mwx', 'mwdy'],
  outputs: ['mwpart'],
  uniforms: ['n', 'h', 'w', 'cv', 'ho', 'wo', 'ipt', 'splits'],
  workgroups: (u) => grid1d(u.splits! * u.cv!, 64),
  cost: (u, c, w) => ({ flops: dwFlops(u, c, w), bytes: dwBytes(u, c, w, u.splits!) }),
});
