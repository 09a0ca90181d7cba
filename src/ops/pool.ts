/** Pooling: forward kernels and backward rules side by side. */
import { reduceMidKernel } from '../../kernels/elementwise.js';
import { gapBackward, gapForward } from '../../kernels/pool.js';
import { pickWidth } from '../../kernels/vec.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';
import { threadTarget } from '../kernel/thread-target.js';

/**
 * Global average pooling of an NHWC tensor: x [N, H, W, C] -> [N, C], the mean over H and W.
 * The backward spreads g / (H*W) over every position.
 */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.shape.length !== 4) throw new MobilegradError(`globalAvgPool: x must be [N, H, W, C], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new MobilegradError(`globalAvgPool: x must be f32, got ${x.dtype}`);
  const [n, h, wd, c] = x.shape as [number, number, number, number];
  const hw = h * wd;
  const scale = 1 / hw;
  const { kernel: fwd, w } = pickWidth(gapForward, c);
  const cv = c / w;
  let y: Tensor;
  const threads = n * cv;
  // Few output channels and a long spatial axis leave most of the device idle with one thread per
  // output: sum chunks of rows in parallel first (reduce_mid), then finish with the scale.
  const splits = threads < 2048 && hw > 256 ? Math.min(Math.ceil(hw / 64), Math.ceil(threadTarget(8192) / threads)) : 1;
  if (splits > 1) {
    const chunk = Math.ceil(hw / splits);
    const real = Math.ceil(hw / chunk);
    const part = runKernel1(pickWidth(reduceMidKernel, c).kernel, { src: x, src2: x }, { shape: [n, real, c] }, { outer: n, mid: hw, inner: cv, splits: real, chunk }, {
      constants: { PRODUCT: 0 },
    });
    y = runKernel1(fwd, { gsrc: part }, { shape: [n, c] }, { outer: n, mid: real, cv, scale });
    part.release();
  } else {
    y = runKernel1(fwd, { gsrc: x }, { shape: [n, c] }, { outer: n, mid: hw, cv, scale });
  }
  return attach(y, 'globalAvgPool', [x], (g) => [globalAvgPoolGrad(g, x.shape)]);
}

/**
 * @internal Uniforms of the kernels that write a value per image and channel group over every
 * position (the pool's backward, squeezeExcite's input gradient): about 16384 threads on a GPU, each
 * a run of `rows` positions of one channel group.
 */
export function spreadUniforms(n: number, hw: number, cv: number): { n: number; hw: number; cv: number; rows: number; blocks: number; scale: number } {
  const rows = Math.min(hw, Math.max(1, Math.ceil((n * hw * cv) / threadTarget(16384))));
  return { n, hw, cv, rows, blocks: Math.ceil(hw / rows), scale: 1 / hw };
}

/** @internal The pool's gradient: g [N, C] / (H*W) at every position of `shape` [N, H, W, C]. */
export function globalAvgPoolGrad(g: Tensor, shape: readonly number[]): Tensor {
  const [n, h, wd, c] = shape as [number, number, number, number];
  const { kernel, w } = pickWidth(gapBackward, c);
  return runKernel1(kernel, { gdy: g }, { shape }, spreadUniforms(n, h * wd, c / w));
}
