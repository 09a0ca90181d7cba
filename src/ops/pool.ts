/** Pooling: forward kernels and backward rules side by side. */
import { reduceMidKernel } from '../../kernels/elementwise.js';
import { gapBackward, gapForward } from '../../kernels/pool.js';
import { attach } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Global average pooling of an NHWC tensor: x [N, H, W, C] -> [N, C], the mean over H and W.
 * The backward spreads g / (H*W) over every position.
 */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.shape.length !== 4) throw new MobilegradError(`globalAvgPool: x must be [N, H, W, C], got [${x.shape.join(', ')}]`);
  if (x.dtype !== 'f32') throw new MobilegradError(`globalAvgPool: x must be f32, got ${x.dtype}`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const hw = h * w;
  const scale = 1 / hw;
  let y: Tensor;
  const threads = n * c;
  // Few output channels and a long spatial axis leave most of the device idle with one thread per
  // output: sum chunks of rows in parallel first (reduce_mid), then finish with the scale.
  const splits = threads < 4096 && hw > 256 ? Math.min(Math.ceil(hw / 64), Math.ceil(16384 / threads)) : 1;
  if (splits > 1) {
    const chunk = Math.ceil(hw / splits);
    const real = Math.ceil(hw / chunk);
    const part = runKernel1(reduceMidKernel, { src: x }, { shape: [n, real, c] }, { outer: n, mid: hw, inner: c, splits: real, chunk });
    y = runKernel1(gapForward, { gsrc: part }, { shape: [n, c] }, { outer: n, mid: real, c, scale });
    part.release();
  } else {
    y = runKernel1(gapForward, { gsrc: x }, { shape: [n, c] }, { outer: n, mid: hw, c, scale });
  }
  return attach(y, 'globalAvgPool', [x], (g) => [
    runKernel1(gapBackward, { gdy: g }, { shape: x.shape }, { n: x.size, hwc: hw * c, c, scale }),
  ]);
}
