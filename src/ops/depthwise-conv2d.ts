/** Depthwise 2-D convolution: forward kernel and backward rule (input and weight gradients) side by side. */
import {
  depthwiseBackwardW,
  depthwiseBackwardWSlide,
  depthwiseBackwardWSmall,
  depthwiseBackwardX,
  depthwiseBackwardXSlide,
  depthwiseForward,
  depthwiseForwardEpi,
  depthwiseForwardSlide,
  depthwiseForwardSlideEpi,
  depthwiseForwardSmall,
  depthwiseForwardSmallEpi,
} from '../../kernels/depthwise-conv2d.js';
import { epilogueConstants, epilogueTensors, type BnEpilogue } from './epilogue.js';
import { pickWidth, type VecKernel } from '../../kernels/vec.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import { isCpuAdapter } from '../kernel/thread-target.js';
import { sumSplits } from './elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { convGeometry, weightGrad, type Conv2dOptions } from './conv2d.js';

// Sizes of the shader's private caches (shaders/depthwise-conv2d.wgsl): outputs per thread, the
// input row segment of a forward block, the dy rows / columns of an input-gradient block.
const MAX_BLOCK = 32;
const MAX_SPAN = 24;
const MAX_DT = 16;
// The sliding kernels' window cache (shaders/depthwise-conv2d.wgsl `win`) and the largest window
// whose weights they keep in registers.
const MAX_WIN = 64;
const MAX_SLIDE_K = 5;
// Row chunks per image column for the sliding kernels: a thread walks a whole column of blocks
// unless that leaves fewer threads than this (small batches), then the column is split. Each
// chunk primes its window again, so long walks pay: 256 measured 1.3-2.5x faster than 2048 at
// batch 1 (224 px) and at 64 px (batch 32) per forward / input-gradient pass, the same at 224/32.
let SLIDE_THREADS = 256;

/** @internal Sets the sliding kernels' thread target (SLIDE_THREADS); returns the previous one. For benchmarks. */
export function setDepthwiseSlideThreads(threads: number): number {
  const old = SLIDE_THREADS;
  SLIDE_THREADS = threads;
  return old;
}
// Threads the sliding weight gradient aims for (each adds K*K partial sums to reduce).
const SLIDE_W_THREADS = 1024;

/** Chunks of `rpt` row blocks out of `blocks`, so that about SLIDE_THREADS threads run. */
function slideChunks(blocks: number, threadsPerChunk: number): { nch: number; rpt: number } {
  const want = Math.min(blocks, Math.max(1, Math.ceil(SLIDE_THREADS / threadsPerChunk)));
  const rpt = Math.ceil(blocks / want);
  return { nch: Math.ceil(blocks / rpt), rpt };
}

/**
 * Sliding-window forward block (null: the block kernel): OHB rows x OWB columns per step, a thread
 * walking down the image. Measured on lavapipe against the blocks: at stride 1, 1 x 4 (1.4-1.8x;
 * 2 x 4 was 1.15-1.25x slower than 1 x 4, 1 x 5 and 1 x 6 2x slower at 5x5: past about 40 window
 * values the cache stops living in registers); at stride 2 one output column (1 x 1: 3x3 1.5-1.7x,
 * 5x5 1.1-1.2x, where 1 x 4 was 0.9x and 1.1x) with 14 output rows or more: onto 7x7 (5x5,
 * 14x14 c288) the blocks stayed faster, too few rows to repay priming the window.
 */
function forwardSlide(k: number, stride: number, ho: number, wo: number): { ohb: number; owb: number } | null {
  if (k > MAX_SLIDE_K || !(stride === 1 || (stride === 2 && ho >= 14))) return null;
  // Where the blocks run with scalar lanes (scalarBlocks), they beat the strip too.
  if (scalarBlocks(k, stride, ho)) return null;
  // An output of at most 4x4 is one block per thread (forwardBlocks): 1.15-1.2x the strip at 4x4
  // and 2x2 (64-px training), where the strip primes its window for a few rows only.
  if (ho <= 4 && wo <= 4) return null;
  const ohb = 1;
  // Never wider than the image (a 2-wide output computed 4 wide would waste half the work).
  const owb = stride === 1 ? Math.min(4, wo) : 1;
  return ((ohb - 1) * stride + k) * ((owb - 1) * stride + k) <= MAX_WIN ? { ohb, owb } : null;
}

let scalarSlideOverride: boolean | null = null;

/**
 * What the sliding kernels' channel width is chosen from (pickWidth): C itself (vec4 lanes where
 * C % 4 == 0), but 1 (one channel per invocation) for windows of 5x5 and more at stride 1 over
 * maps of 7x7 and more (`side`: the smaller side) on CPU adapters. There each vec4 value of an
 * invocation takes four vector registers, so a 5x5 window's cached inputs and weights spill;
 * scalar lanes keep four times as many in registers. Measured on lavapipe (in-process alternation,
 * MobileNetV3-Small's 5x5 stride-1 layers at 224 px, docs/benchmarks.md): forward 1.04-1.36x,
 * weight gradient 1.1-1.45x, input gradient 1.0-1.3x; at 4x4 and 2x2 (64 px) 0.8-1.2x, so not there.
 */
function slideLanes(c: number, k: number, stride: number, side: number): number {
  return (scalarSlideOverride ?? isCpuAdapter()) && k >= 5 && stride === 1 && side >= 7 ? 1 : c;
}

/** @internal Forces scalar (true) or vec4 (false) lanes for the 5x5 stride-1 sliding kernels and the 5x5 stride-2 forward blocks (null: by adapter); returns the previous setting. For tests and benchmarks. */
export function setDepthwiseScalarSlide(on: boolean | null): boolean | null {
  const old = scalarSlideOverride;
  scalarSlideOverride = on;
  return old;
}

/**
 * Whether the forward runs the block kernel with scalar lanes (one channel per invocation) and
 * 7 x 4 blocks: windows of 5x5 and more at stride 2 onto outputs of 7 rows or more, on CPU
 * adapters, where a vec4 block's accumulators, weights and row cache spill (see slideLanes).
 * Measured on lavapipe (batch 32, docs/benchmarks.md): onto 7x7 (14x14 c288) 1.24-1.5x the vec4
 * 4 x 4 blocks (scalar 4 x 4 1.1-1.35x, 4 x 7 1.4x, 2 x 7 1.1x); onto 14x14 (28x28 c96) 1.06x,
 * 1.2x, 1.27x and 1.2x the vec4 strip (forwardSlide) in four runs. At 8x8 -> 4x4 and 4x4 -> 2x2
 * (64 px) and for 3x3 windows the same or slower, so not there. The backward kernels keep vec4
 * (scalar lanes measured 0.75x there).
 */
function scalarBlocks(k: number, stride: number, ho: number): boolean {
  return (scalarSlideOverride ?? isCpuAdapter()) && k >= 5 && stride === 2 && ho >= 7;
}

/** The forward block kernel's channel width for pickWidth: 1 where scalarBlocks, else C. */
function blockLanes(c: number, k: number, stride: number, ho: number): number {
  return scalarBlocks(k, stride, ho) ? 1 : c;
}

/**
 * Forward block: OHB output rows x OWB columns per thread. Larger blocks share more of the input
 * rows they read (fewer loads per output: the cost that dominates on CPU adapters); 4x4 measured
 * best for 3x3 windows on lavapipe, 2x8 for 5x5 at stride 1 (more outputs per loaded row).
 */
function forwardBlocks(k: number, stride: number, ho: number, wo: number, lanes: number): { ohb: number; owb: number } {
  let [ohb, owb] = k >= 5 && stride === 1 && !(ho <= 4 && wo <= 4) ? [2, 8] : lanes === 1 && k >= 5 && stride === 2 ? [7, 4] : [4, 4];
  // Never larger than the output (small late layers: 2x2, 4x4: the whole output in one block).
  ohb = Math.min(ohb, ho);
  owb = Math.min(owb, wo);
  while (owb > 1 && (owb - 1) * stride + k > MAX_SPAN) owb--;
  while (ohb * owb > MAX_BLOCK) ohb--;
  return { ohb, owb };
}

/**
 * Whether a convolution from an inH x inW map onto outH x outW runs forward_small (one thread per
 * image and channel group, padded taps compiled away): at most 16 input and 4 output positions,
 * windows up to 5x5. Measured on lavapipe (batch 32, medians of five alternated rounds): 5x5 over
 * 2x2 c576 1.49 -> 0.39 ms, 4x4 -> 2x2 at stride 2 c288 0.86 -> 0.62 ms; onto 4x4 only 0.96-1.11x
 * the block kernel, so not there.
 */
function smallMap(inH: number, inW: number, outH: number, outW: number, k: number): boolean {
  return inH * inW <= 16 && outH * outW <= 4 && k <= 5;
}

/** forward_small's override constants for an inH x inW map onto outH x outW. */
function smallConstants(k: number, stride: number, pad: number, inH: number, inW: number, outH: number, outW: number): Record<string, number> {
  return { K: k, S: stride, SMH: inH, SMW: inW, SMHO: outH, SMWO: outW, SMPAD: pad };
}

/**
 * Input-gradient block: IHB x IWB input positions per thread, multiples of the stride (so the
 * tap-to-dy mapping is static), LO the first dy row / column offset and DT the dy rows read.
 */
function inputGradBlocks(k: number, stride: number, padding: number): { ib: number; lo: number; dt: number } {
  const lo = Math.ceil((padding - k + 1) / stride);
  const dtOf = (ib: number) => Math.floor((ib - 1 + padding) / stride) - lo + 1;
  let ib = stride * Math.max(1, Math.floor(4 / stride));
  while (ib > stride && (dtOf(ib) > MAX_DT || ib * ib > MAX_BLOCK)) ib -= stride;
  if (dtOf(ib) > MAX_DT || ib * ib > MAX_BLOCK) throw new MobilegradError(`depthwiseConv2d: window ${k} with stride ${stride} is beyond the input-gradient kernel's caches`);
  return { ib, lo, dt: dtOf(ib) };
}

/**
 * Depthwise 2-D convolution (each channel with its own KxK filter, no bias), with autograd.
 * @param x input [N, H, W, C] (NHWC)
 * @param w weights [K, K, C]
 * @param options stride and zero padding (defaults 1 and 0; MobileNet uses padding K//2)
 * @returns [N, Ho, Wo, C] with Ho = floor((H + 2*padding - K) / stride) + 1 (Wo likewise)
 */
export function depthwiseConv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const { y, backward } = depthwiseConv2dForward(x, w, options);
  return attach(y, 'depthwiseConv2d', [x, w], backward);
}

/**
 * The forward launch of {@link depthwiseConv2d} and its backward rule; with `epi` the fused
 * inference kernel stores BatchNorm + activation of the result (src/ops/conv-bn-act.ts).
 */
export function depthwiseConv2dForward(x: Tensor, w: Tensor, options: Conv2dOptions, epi?: BnEpilogue): { y: Tensor; backward: (g: Tensor) => (Tensor | null)[] } {
  const shapes = `x [${x.shape.join(', ')}], w [${w.shape.join(', ')}]`;
  if (x.shape.length !== 4) throw new MobilegradError(`depthwiseConv2d: x must be NHWC [N, H, W, C], got ${shapes}`);
  if (w.shape.length !== 3 || w.shape[0] !== w.shape[1]) throw new MobilegradError(`depthwiseConv2d: w must be [K, K, C], got ${shapes}`);
  if (x.dtype !== 'f32' || w.dtype !== 'f32') throw new MobilegradError(`depthwiseConv2d: x and w must be f32, got ${x.dtype} and ${w.dtype} (${shapes})`);
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const [k, , wc] = w.shape as [number, number, number];
  if (wc !== c) throw new MobilegradError(`depthwiseConv2d: weight channels ${wc} do not match the input's ${c} (${shapes})`);
  const { stride, padding, ho, wo } = convGeometry('depthwiseConv2d', h, wd, k, k, options, shapes);
  // The backward kernels' width (the forward kernels choose theirs below).
  const { w: width } = pickWidth(depthwiseForward, c);
  const cv = c / width;
  const pick = (kv: VecKernel) => (width === 4 ? kv.v4 : kv.v1);
  const dims = { n, h, w: wd, cv, ho, wo };
  const slide = forwardSlide(k, stride, ho, wo);
  let y: Tensor;
  if (smallMap(h, wd, ho, wo, k)) {
    const { kernel, w: sw } = pickWidth(epi ? depthwiseForwardSmallEpi : depthwiseForwardSmall, c);
    y = runKernel1(kernel, epi ? { mx: x, mwt: w, ...epilogueTensors(epi) } : { mx: x, mwt: w }, { shape: [n, ho, wo, c] }, { ...dims, cv: c / sw }, {
      constants: { ...smallConstants(k, stride, padding, h, wd, ho, wo), ...(epi ? epilogueConstants(epi) : {}) },
    });
  } else if (slide) {
    const { ohb, owb } = slide;
    const wob = Math.ceil(wo / owb);
    const { kernel, w: sw } = pickWidth(epi ? depthwiseForwardSlideEpi : depthwiseForwardSlide, slideLanes(c, k, stride, Math.min(ho, wo)));
    const scv = c / sw;
    y = runKernel1(kernel, epi ? { sx: x, swt: w, ...epilogueTensors(epi) } : { sx: x, swt: w }, { shape: [n, ho, wo, c] }, { ...dims, cv: scv, pad: padding, wob, ...slideChunks(Math.ceil(ho / ohb), n * wob * scv) }, {
      constants: { K: k, S: stride, OHB: ohb, OWB: owb, ...(epi ? epilogueConstants(epi) : {}) },
    });
  } else {
    const { kernel, w: bw } = pickWidth(epi ? depthwiseForwardEpi : depthwiseForward, blockLanes(c, k, stride, ho));
    const { ohb, owb } = forwardBlocks(k, stride, ho, wo, bw);
    y = runKernel1(kernel, epi ? { x, wt: w, ...epilogueTensors(epi) } : { x, wt: w }, { shape: [n, ho, wo, c] }, { ...dims, cv: c / bw, pad: padding, wob: Math.ceil(wo / owb), hob: Math.ceil(ho / ohb) }, {
      constants: { K: k, S: stride, OHB: ohb, OWB: owb, ...(epi ? epilogueConstants(epi) : {}) },
    });
  }
  return { y, backward: (g: Tensor) => {
    let dx: Tensor | null = null;
    if (x.requiresGrad) dx = inputGrad(g, w, x.shape, dims, k, stride, padding);
    const dw = w.requiresGrad
      ? (weightGradSlide(x, g, w.shape, dims, k, stride, padding)
        ?? weightGrad(pick(depthwiseBackwardW), { gx: x, gdy: g }, w.shape, n * ho, k * cv, { ...dims, pad: padding, k }, { K: k, S: stride }))
      : null;
    return [dx, dw];
  } };
}

/**
 * The input gradient. Sliding kernels where they measured faster on lavapipe: at stride 2 (and 3x3
 * at stride 1) dy's rows slide down a strip of 2 (1) x 4 input positions (1.5-2.8x the blocks; 2 x 2
 * measured the same); 5x5 at stride 1 runs the forward sliding kernel over dy with the window
 * rotated (pad K-1-pad; 1.2-1.9x).
 */
function inputGrad(g: Tensor, w: Tensor, shape: readonly number[], dims: { n: number; h: number; w: number; cv: number; ho: number; wo: number }, k: number, stride: number, padding: number): Tensor {
  const { n, h, w: wd, cv, ho, wo } = dims;
  const c = shape[3]!;
  // Stride 1: the forward over dy with the window rotated (FLIP), padded K-1-pad.
  if (stride === 1 && padding <= k - 1 && smallMap(ho, wo, h, wd, k)) {
    const { kernel, w: sw } = pickWidth(depthwiseForwardSmall, c);
    return runKernel1(kernel, { mx: g, mwt: w }, { shape }, { n, h: ho, w: wo, cv: c / sw, ho: h, wo: wd }, {
      constants: { ...smallConstants(k, 1, k - 1 - padding, ho, wo, h, wd), FLIP: 1 },
    });
  }
  if (k <= MAX_SLIDE_K && stride === 1 && k >= 4 && padding <= k - 1) {
    const ohb = 1, owb = Math.min(4, wd);
    if ((ohb - 1 + k) * (owb - 1 + k) <= MAX_WIN) {
      const wob = Math.ceil(wd / owb);
      const { kernel, w: sw } = pickWidth(depthwiseForwardSlide, slideLanes(c, k, 1, Math.min(h, wd)));
      const scv = c / sw;
      return runKernel1(kernel, { sx: g, swt: w }, { shape }, { n, h: ho, w: wo, cv: scv, ho: h, wo: wd, pad: k - 1 - padding, wob, ...slideChunks(Math.ceil(h / ohb), n * wob * scv) }, {
        constants: { K: k, S: 1, OHB: ohb, OWB: owb, FLIP: 1 },
      });
    }
  }
  if (k <= MAX_SLIDE_K && (stride === 2 || (stride === 1 && k <= 3))) {
    const lo = Math.ceil((padding - k + 1) / stride);
    const dtOf = (ib: number) => Math.floor((ib - 1 + padding) / stride) - lo + 1;
    const ihb = stride, iwb = stride === 1 ? Math.min(4, wd) : 4;
    const dtr = dtOf(ihb), dtc = dtOf(iwb);
    if (dtr * dtc <= MAX_WIN) {
      const iwbN = Math.ceil(wd / iwb);
      return runKernel1(pickWidth(depthwiseBackwardXSlide, c).kernel, { tdy: g, twt: w }, { shape }, { ...dims, iwb: iwbN, ...slideChunks(Math.ceil(h / ihb), n * iwbN * cv) }, {
        constants: { K: k, S: stride, IHB: ihb, IWB: iwb, PAD: padding, LO: lo, DTR: dtr, DTC: dtc },
      });
    }
  }
  const b = inputGradBlocks(k, stride, padding);
  return runKernel1(pickWidth(depthwiseBackwardX, c).kernel, { dy: g, dwt: w }, { shape }, { ...dims, iwb: Math.ceil(wd / b.ib), ihb: Math.ceil(h / b.ib) }, {
    constants: { K: k, S: stride, IHB: b.ib, IWB: b.ib, PAD: padding, LO: b.lo, DT: b.dt },
  });
}

/**
 * The weight gradient over small maps (smallMap; shaders/depthwise-conv2d.wgsl `backward_w_small`):
 * about SLIDE_W_THREADS threads, each summing every tap over `ipt` images. Measured on lavapipe
 * (batch 32, 64-px layers, kernel bench): see docs/benchmarks.md.
 */
function weightGradSmall(x: Tensor, g: Tensor, wShape: readonly number[], dims: { n: number; h: number; w: number; cv: number; ho: number; wo: number }, k: number, stride: number, padding: number): Tensor {
  const c = wShape[2]!;
  const { kernel, w: sw } = pickWidth(depthwiseBackwardWSmall, c);
  const cv = c / sw;
  const { n, h, w: wd, ho, wo } = dims;
  const ipt = Math.ceil(n / Math.max(1, Math.min(n, Math.ceil(SLIDE_W_THREADS / cv))));
  const splits = Math.ceil(n / ipt);
  const part = runKernel1(kernel, { mwx: x, mwdy: g }, { shape: [splits, ...wShape] }, { n, h, w: wd, cv, ho, wo, ipt, splits }, {
    constants: smallConstants(k, stride, padding, h, wd, ho, wo),
  });
  return sumSplits(part, splits, wShape);
}

/**
 * The sliding weight gradient (shaders/depthwise-conv2d.wgsl `backward_w_slide`), or null where the
 * per-ky kernel stays (windows over 5x5, strides over 2, 5x5 at stride 2 onto fewer than 14 rows).
 * One thread per (split, strip of OWB output columns, channel group) holds all K*K taps; a split
 * is `ipt` images, or at small batches a chunk of `rpt` row steps of one image, sized so that about
 * SLIDE_W_THREADS threads run; reduceMid sums the nsp * wob partials. Measured on lavapipe against
 * the per-ky kernel (batch 32, CPU time): stride 1 1.25-1.9x (3x3 28x28 1.85x, 5x5 14x14 1.6-1.75x,
 * 5x5 7x7 1.25x) with 1 x 2 strips (1 x 4 about the same, 1 x 1 slower); stride 2 1.07-1.15x with
 * one column per thread (1 x 2 was 1.3-1.5x slower than 1 x 1, 1 x 4 slower still), and 5x5 at
 * 14x14 -> 7x7 0.95x (kept on the per-ky kernel). 1024 threads measured ahead of 2048 and 4096.
 */
function weightGradSlide(x: Tensor, g: Tensor, wShape: readonly number[], dims: { n: number; h: number; w: number; cv: number; ho: number; wo: number }, k: number, stride: number, padding: number): Tensor | null {
  if (smallMap(dims.h, dims.w, dims.ho, dims.wo, k)) return weightGradSmall(x, g, wShape, dims, k, stride, padding);
  if (k > MAX_SLIDE_K || stride > 2 || (stride === 2 && k > 3 && dims.ho < 14)) return null;
  const c = wShape[2]!;
  const { kernel, w: sw } = pickWidth(depthwiseBackwardWSlide, slideLanes(c, k, stride, Math.min(dims.ho, dims.wo)));
  const { n, h, ho, wo } = dims;
  const cv = c / sw;
  const d = Math.ceil(k / stride);
  const owb = stride === 1 ? 2 : 1;
  // First and one-past-last step: step m takes input rows m*S-pad .. m*S-pad+S-1 and dy rows m-D+1 .. m.
  const m0 = Math.max(0, Math.ceil((padding - stride + 1) / stride));
  const steps = Math.min(Math.floor((h - 1 + padding) / stride), ho + d - 2) - m0 + 1;
  if (steps <= 0) return null;
  const wob = Math.ceil(wo / owb);
  const want = Math.ceil(SLIDE_W_THREADS / (wob * cv));
  let ipt = 1, nch = 1, rpt = steps;
  if (want <= n) {
    ipt = Math.ceil(n / want);
  } else {
    rpt = Math.ceil(steps / Math.min(steps, Math.ceil(want / n)));
    nch = Math.ceil(steps / rpt);
  }
  const nsp = Math.ceil(n / ipt) * nch;
  const parts = nsp * wob;
  const part = runKernel1(kernel, { ux: x, udy: g }, { shape: [parts, ...wShape] }, {
    ...dims, cv, pad: padding, wob, nsp, nch, rpt, ipt, m0, mend: m0 + steps,
  }, { constants: { K: k, S: stride, OWB: owb } });
  return sumSplits(part, parts, wShape);
}
