/** Dense 2-D convolution: forward kernel and backward rule (input and weight gradients) side by side. */
import { conv2dBackwardW, conv2dBackwardX, conv2dBackwardX4, conv2dForward as conv2dForwardKernel, conv2dForwardEpi, conv2dForwardRows, conv2dForwardRowsEpi, conv2dBackwardWRows } from '../../kernels/conv2d.js';
import { epilogueConstants, epilogueTensors, type BnEpilogue } from './epilogue.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import type { Kernel, Uniforms } from '../kernel/define-kernel.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { sumSplits } from './elementwise.js';
import { threadTarget } from '../kernel/thread-target.js';

/** Stride and zero padding, the same along height and width. */
export interface Conv2dOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /** Zeros added on every side of the input (default 0). */
  padding?: number;
}

/** Largest window side and stride the kernels' fixed-size register caches hold. */
export const MAX_WINDOW = 16;

/** @internal Stride and padding validated, with the output size. */
export function convGeometry(op: string, h: number, w: number, kh: number, kw: number, options: Conv2dOptions, shapes: string) {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  if (!Number.isInteger(stride) || stride < 1 || stride > MAX_WINDOW) throw new MobilegradError(`${op}: stride must be an integer in 1..${MAX_WINDOW}, got ${stride} (${shapes})`);
  if (!Number.isInteger(padding) || padding < 0) throw new MobilegradError(`${op}: padding must be a non-negative integer, got ${padding} (${shapes})`);
  if (kh > MAX_WINDOW || kw > MAX_WINDOW) throw new MobilegradError(`${op}: kernel ${kh}x${kw} is larger than the ${MAX_WINDOW}x${MAX_WINDOW} the kernels support (${shapes})`);
  if (kh > h + 2 * padding || kw > w + 2 * padding) {
    throw new MobilegradError(`${op}: kernel ${kh}x${kw} is larger than the padded input ${h + 2 * padding}x${w + 2 * padding} (${shapes}, padding ${padding})`);
  }
  return { stride, padding, ho: Math.floor((h + 2 * padding - kh) / stride) + 1, wo: Math.floor((w + 2 * padding - kw) / stride) + 1 };
}

/** @internal Output columns per forward thread: up to `most`, as long as the row cache (`cache` floats) holds them. */
export function forwardBlock(kw: number, stride: number, cache: number, most = 4): number {
  let owb = most;
  while (owb > 1 && (owb - 1) * stride + kw > cache) owb--;
  return owb;
}

/**
 * @internal Input-gradient blocking: IWB input columns per thread (a multiple of the stride, so the
 * tap-to-output mapping is static), LO the first output column offset and DT the output columns read.
 */
export function inputGradBlock(kw: number, stride: number, padding: number, columns = 4) {
  let iwb = stride * Math.max(1, Math.floor(columns / stride));
  const lo = Math.ceil((padding - kw + 1) / stride);
  const dtOf = (b: number) => Math.floor((b - 1 + padding) / stride) - lo + 1;
  // The shaders cache at most 32 dy columns (wide windows at stride 1).
  while (iwb > stride && dtOf(iwb) > 32) iwb -= stride;
  if (dtOf(iwb) > 32) throw new MobilegradError(`conv2d: a ${kw}-wide window at stride ${stride} is beyond the input-gradient kernels' caches (32 dy columns)`);
  return { iwb, lo, dt: dtOf(iwb) };
}

/**
 * @internal First stage of a weight gradient split over `rows` output rows (N*Ho): about 8192
 * threads in all on a GPU (an eighth on a CPU adapter: src/kernel/thread-target.ts), each summing a contiguous chunk of rows; then `reduceMid` sums the splits.
 */
export function weightGrad(kernel: Kernel, tensors: Record<string, Tensor>, wShape: readonly number[], rows: number, threadsPerSplit: number, uniforms: Uniforms, constants: Record<string, number>): Tensor {
  const want = Math.max(1, Math.min(rows, Math.ceil(threadTarget(8192) / threadsPerSplit)));
  const chunk = Math.ceil(rows / want);
  const splits = Math.ceil(rows / chunk);
  const part = runKernel1(kernel, tensors, { shape: [splits, ...wShape] }, { ...uniforms, chunk, splits }, { constants });
  return sumSplits(part, splits, wShape);
}

/**
 * @internal Blocking of the few-input-channel kernels (`forward_rows`, `backward_w_rows` in
 * shaders/conv2d.wgsl), or null where they do not apply: input rows read as aligned vec4s
 * (W*Cin % 4 == 0), output channels in vec4s (Cout % 4 == 0), blocks of OWB = 2 output columns
 * whose input segments start at the same offset in a vec4 (S*2*Cin % 4 == 0), 8 output channels
 * per thread (CG = 2 vec4s), and the private arrays' sizes: the forward thread's weights
 * (KH*KW*Cin*CG vec4s, at most 128) and the weight gradient's accumulators (KW*Cin*CG vec4s, at
 * most 24: with 30 (5x5, 3 channels) or 42 (7x7) it ran at half the general kernel's speed).
 * At the stem (3x3 stride 2, 3 -> 16, batch 32, CPU time) 2 columns x 8 channels beat 2 x 4
 * (1.1-1.25x slower), 2 x 16 (1.8x), 4 x 4 (2x), 4 x 8 (1.5x) in the forward and, in the weight
 * gradient, 2 x 4, 2 x 16, 4 x 4 and threads holding all three kernel rows (1.3-9x slower): fewer
 * live values per thread win on lavapipe. Keeping the overlapping vec4 (SLIDE) saved 13 %.
 */
export function rowsPlan(w: number, cin: number, kh: number, kw: number, stride: number, padding: number, cout: number) {
  const owb = 2;
  if ((w * cin) % 4 !== 0 || cout % 4 !== 0 || (stride * owb * cin) % 4 !== 0) return null;
  const cog = cout / 4;
  const cg = Math.min(2, cog);
  const xl = (4 - ((padding * cin) % 4)) % 4;
  const nv = Math.ceil((xl + ((owb - 1) * stride + kw) * cin) / 4);
  const ov = nv - (stride * owb * cin) / 4;
  if (nv > 8) return null;
  const constants = { KH: kh, KW: kw, S: stride, PAD: padding, CIN: cin, OWB: owb, CG: cg, XL: xl, NV: nv, SLIDE: ov > 0 ? 1 : 0, OV: Math.max(ov, 1) };
  return {
    cob: Math.ceil(cog / cg),
    forward: kh * kw * cin * cg <= 128 && kh * ov <= 16,
    weightGrad: kw * cin * cg <= 24,
    constants,
  };
}

/**
 * 2-D convolution (cross-correlation, as PyTorch's `conv2d`) without bias, with autograd.
 * @param x input [N, H, W, Cin] (NHWC)
 * @param w weights [KH, KW, Cin, Cout] (HWIO)
 * @param options stride and zero padding (defaults 1 and 0), the same along both axes
 * @returns [N, Ho, Wo, Cout] with Ho = floor((H + 2*padding - KH) / stride) + 1 (Wo likewise)
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const { y, backward } = conv2dForward(x, w, options);
  return attach(y, 'conv2d', [x, w], backward);
}

/**
 * The forward launch of {@link conv2d} and its backward rule; with `epi` (Cout % 4 == 0) the
 * fused inference kernel stores BatchNorm + activation of the result (src/ops/conv-bn-act.ts).
 */
export function conv2dForward(x: Tensor, w: Tensor, options: Conv2dOptions, epi?: BnEpilogue): { y: Tensor; backward: (g: Tensor) => (Tensor | null)[] } {
  const shapes = `x [${x.shape.join(', ')}], w [${w.shape.join(', ')}]`;
  if (x.shape.length !== 4) throw new MobilegradError(`conv2d: x must be NHWC [N, H, W, Cin], got ${shapes}`);
  if (w.shape.length !== 4) throw new MobilegradError(`conv2d: w must be [KH, KW, Cin, Cout], got ${shapes}`);
  if (x.dtype !== 'f32' || w.dtype !== 'f32') throw new MobilegradError(`conv2d: x and w must be f32, got ${x.dtype} and ${w.dtype} (${shapes})`);
  const [n, h, wd, cin] = x.shape as [number, number, number, number];
  const [kh, kw, wcin, cout] = w.shape as [number, number, number, number];
  if (wcin !== cin) throw new MobilegradError(`conv2d: weight input channels ${wcin} do not match the input's ${cin} (${shapes})`);
  const { stride, padding, ho, wo } = convGeometry('conv2d', h, wd, kh, kw, options, shapes);
  // Up to 8 columns x 8 channels per forward thread: each input value then serves up to 8 output
  // channels and each weight up to 8 columns (fewer loads per output, the cost that dominates).
  const owb = forwardBlock(kw, stride, 32, wo >= 8 ? 8 : 4);
  const cov = cout > 4 ? 2 : 1;
  const cob = Math.ceil(cout / 4);
  const dims = { n, h, w: wd, cin, ho, wo, cout };
  // Output channels in fours: weights and dy also read as vec4s (fewer bounds-checked loads).
  const w4 = cout % 4 === 0 ? 1 : 0;
  if (epi && !w4) throw new MobilegradError(`conv2d: the fused epilogue needs output channels in fours, got ${cout} (${shapes})`);
  const rows = rowsPlan(wd, cin, kh, kw, stride, padding, cout);
  const y = rows?.forward ? runKernel1(
    epi ? conv2dForwardRowsEpi : conv2dForwardRows,
    epi ? { xr4: x, wt4: w, ...epilogueTensors(epi) } : { xr4: x, wt4: w },
    { shape: [n, ho, wo, cout] },
    { n, h, w: wd, ho, wo, cout, cob: rows.cob },
    { constants: { ...rows.constants, ...(epi ? epilogueConstants(epi) : {}) } },
  ) : runKernel1(
    epi ? conv2dForwardEpi : conv2dForwardKernel,
    epi ? { x, wt: w, wt4: w, ...epilogueTensors(epi) } : { x, wt: w, wt4: w },
    { shape: [n, ho, wo, cout] },
    { ...dims, pad: padding, wob: Math.ceil(wo / owb), cob: Math.ceil(cout / (4 * cov)) },
    { constants: { KH: kh, KW: kw, S: stride, OWB: owb, COV: cov, W4: w4, ...(epi ? epilogueConstants(epi) : {}) } },
  );
  return { y, backward: (g: Tensor) => {
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      // Output channels in fours: dy and the weights as vec4s (conv2dBackwardX4), 8 input columns
      // per thread (4 measured 0.65-0.75x of 8 with it, 12 and 16 0.7-1.3x), and a thread takes
      // three input channels where there are three (the stem), not a clamped fourth. On lavapipe
      // the stem's dx (batch 32, 224 px) 1.8x the scalar kernel, 3x3 convs with 13-16 input
      // channels 1.0-1.1x (docs/benchmarks.md).
      const b = inputGradBlock(kw, stride, padding, w4 ? 8 : 4);
      const constants = { KH: kh, KW: kw, S: stride, IWB: b.iwb, PAD: padding, LO: b.lo, DT: b.dt };
      const ci = Math.min(4, cin);
      dx = w4
        ? runKernel1(conv2dBackwardX4, { dyv: g, dwtv: w }, { shape: x.shape }, { ...dims, iwb: Math.ceil(wd / b.iwb), cib: Math.ceil(cin / ci) }, { constants: { ...constants, CI: ci } })
        : runKernel1(conv2dBackwardX, { dy: g, dwt: w }, { shape: x.shape }, { ...dims, iwb: Math.ceil(wd / b.iwb), cib: Math.ceil(cin / 4) }, { constants });
    }
    // The rows kernel's splits: a quarter of weightGrad's usual 8192 threads (longer chunks,
    // fewer partial sums; 1/1 and 1/16 measured the same).
    const dw = w.requiresGrad && rows?.weightGrad
      ? weightGrad(conv2dBackwardWRows, { gxr4: x, gdyr4: g }, w.shape, n * ho, 4 * kh * rows.cob, { n, h, w: wd, ho, wo, cout, cob: rows.cob, kh }, rows.constants)
      : w.requiresGrad
      ? weightGrad(conv2dBackwardW, { gx: x, gdy: g, gdy4: g }, w.shape, n * ho, kh * cin * cob, { ...dims, pad: padding, cob, kh }, { KH: kh, KW: kw, S: stride, W4: w4 })
      : null;
    return [dx, dw];
  } };
}
