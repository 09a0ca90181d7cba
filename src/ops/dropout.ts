/** Inverted dropout: forward kernel and backward rule side by side. */
import { dropoutBackward, dropoutForward } from '../../kernels/dropout.js';
import { attach, isGradEnabled } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import { perStepTensor } from '../tensor/per-step.js';
import { globalRng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /**
   * Mask seed (any 32-bit integer): the same seed gives the same mask. Default: drawn from the
   * global generator (`mg.seed`), so runs are reproducible and each call gets a fresh mask.
   */
  seed?: number;
  /** When false, `x` is returned unchanged (evaluation). Default true. */
  training?: boolean;
}

/**
 * Inverted dropout: each element is zeroed with probability `p` and the kept ones are scaled by
 * 1/(1-p). The mask is a hash of (seed, element index) computed in WGSL, so the backward
 * regenerates it instead of storing it. With `training: false` or `p = 0` the result is a view of
 * `x` (no copy; gradients pass straight through).
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new MobilegradError(`dropout: p must be in [0, 1], got ${p}`);
  if (x.dtype !== 'f32') throw new MobilegradError(`dropout: expects f32, got ${x.dtype} [${x.shape.join(', ')}]`);
  if (options.training === false || p === 0) {
    return attach(x.view(x.shape), 'dropout', [x], (g) => [g]);
  }
  // The seed is a per-step value (a one-word buffer, drawn again when a recorded step replays),
  // kept until the backward has regenerated the mask.
  const fixed = options.seed;
  const seed = perStepTensor([1], 'u32', () => new Uint32Array([(fixed ?? globalRng().seed()) >>> 0]));
  // Integer threshold on 24 hash bits: exact and identical on every adapter.
  const u = { n: x.size, threshold: Math.round(p * 2 ** 24), scale: p === 1 ? 0 : 1 / (1 - p) };
  const y = runKernel1(dropoutForward, { x, fseed: seed }, { shape: x.shape }, u);
  if (!isGradEnabled() || !x.requiresGrad) {
    seed.release();
    return y;
  }
  return attach(y, 'dropout', [x], (g) => {
    const dx = runKernel1(dropoutBackward, { dy: g, bseed: seed }, { shape: x.shape }, u);
    seed.release();
    return [dx];
  });
}
