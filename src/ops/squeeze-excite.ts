/**
 * Squeeze-and-excitation as one autograd unit around a gate function: y = x * gate(mean_hw(x)).
 *
 * Why an op of its own: x is used twice (pooled for the gate, and scaled by it), so separate ops
 * give x two gradients, each a full-size tensor, and then add them: three passes over the block's
 * largest tensor. Here the scale's backward leaves x's gradient to the pool's backward, which runs
 * later (the gate depends on the pool, so reverse topological order puts the pool after the gate
 * function's backward) and writes dx = g * gate + dpooled / (H*W) in one pass
 * (shaders/squeeze-excite.wgsl). The gate function (the SE block's two linears and activations) is
 * recorded by autograd as usual, so its parameters get their gradients as before.
 */
import { seBackwardX, seGate } from '../../kernels/squeeze-excite.js';
import { pickWidth } from '../../kernels/vec.js';
import { attach, isGradEnabled, noGrad } from '../autograd/graph.js';
import { MobilegradError } from '../device/errors.js';
import { runKernel1 } from '../kernel/run-kernel.js';
import { isCpuAdapter } from '../kernel/thread-target.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul, reduceMid, reshape } from './elementwise.js';
import { globalAvgPool, globalAvgPoolGrad, spreadUniforms } from './pool.js';

/** Whether `t`'s recorded graph reaches `target` (a few nodes: the SE gate's linears and activations). */
function reaches(t: Tensor, target: Tensor): boolean {
  const stack = [t];
  const seen = new Set<Tensor>();
  while (stack.length) {
    const u = stack.pop()!;
    if (u === target) return true;
    if (seen.has(u) || !u.gradFn) continue;
    seen.add(u);
    stack.push(...u.gradFn.inputs);
  }
  return false;
}

/**
 * y [N, H, W, C] = x * gateOf(pooled) per image and channel, with pooled the mean of x over H and
 * W ([N, C]) and gateOf returning [N, C] computed from it. Gradients flow to x and to whatever
 * gateOf uses, as the separate ops would give them.
 */
export function squeezeExcite(x: Tensor, gateOf: (pooled: Tensor) => Tensor): Tensor {
  if (x.shape.length !== 4) throw new MobilegradError(`squeezeExcite: x must be [N, H, W, C], got [${x.shape.join(', ')}]`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const hw = h * w;
  const checkGate = (gate: Tensor) => {
    if (gate.shape.length !== 2 || gate.shape[0] !== n || gate.shape[1] !== c) {
      throw new MobilegradError(`squeezeExcite: the gate must be [${n}, ${c}] for x [${x.shape.join(', ')}], got [${gate.shape.join(', ')}]`);
    }
    return gate;
  };
  // No gradient for x: nothing to fuse; the separate ops.
  if (!isGradEnabled() || !x.requiresGrad) {
    const gate = checkGate(gateOf(globalAvgPool(x)));
    return mul(x, reshape(gate, [n, 1, 1, c]));
  }
  const { kernel: dxKernel, w: width } = pickWidth(seBackwardX, c);
  const cv = c / width;
  const spread = spreadUniforms(n, hw, cv);
  // The scale's g, kept for the pool's backward.
  let saved: Tensor | null = null;
  let gate: Tensor | null = null;
  const pooled = attach(noGrad(() => globalAvgPool(x)), 'squeezeExcite.pool', [x], (dpool) => {
    if (!saved) {
      // The backward began between the scale and the pool (from the gate): the pool's own gradient.
      return [globalAvgPoolGrad(dpool, x.shape)];
    }
    const dx = runKernel1(dxKernel, { se_g: saved, se_gate: gate!, se_dpool: dpool }, { shape: x.shape }, spread);
    saved.release();
    saved = null;
    return [dx];
  });
  gate = checkGate(gateOf(pooled));
  const g4 = gate;
  const y = noGrad(() => mul(x, reshape(g4, [n, 1, 1, c])));
  // A gate that does not come from the pool (a user's block): x gets its share from the scale.
  const fused = reaches(g4, pooled);
  return attach(y, 'squeezeExcite.scale', [x, g4], (g) => {
    let dx: Tensor | null = null;
    if (fused) saved = g.view(g.shape);
    else dx = noGrad(() => mul(g, reshape(g4, [n, 1, 1, c])));
    const dgate = g4.requiresGrad ? reduceMid(g, n, hw, c, x) : null;
    return [dx, dgate];
  });
}

// Largest batch whose SE gates run as one kernel each in inference (seGate: one workgroup per
// image). Measured on lavapipe (docs/benchmarks.md): see squeezeExciteGateSuits.
let GATE_MAX_BATCH = 4;

/** @internal Sets the largest batch for {@link squeezeExciteGate} in the model (0: never); returns the previous value. For tests and benchmarks. */
export function setSeGateMaxBatch(n: number): number {
  const old = GATE_MAX_BATCH;
  GATE_MAX_BATCH = n;
  return old;
}

/**
 * Whether the SE layer with weights w1 [C, S] runs its gate as {@link squeezeExciteGate} for x
 * [N, H, W, C]: on CPU adapters (where it was measured: there the separate kernels ran on one to
 * three workgroups anyway; a GPU would give one workgroup per image little to do in parallel), a
 * batch of at most GATE_MAX_BATCH (at larger batches the batched GEMMs load each weight once for
 * many images; one workgroup per image loads it once per image), C and S in fours and at most
 * 1024 (the kernel's workgroup caches).
 */
export function squeezeExciteGateSuits(x: Tensor, w1: Tensor): boolean {
  if (x.shape.length !== 4 || w1.shape.length !== 2 || !isCpuAdapter()) return false;
  const [n, , , c] = x.shape as [number, number, number, number];
  const [wc, sq] = w1.shape as [number, number];
  return n <= GATE_MAX_BATCH && wc === c && gateFits(c, sq) && x.dtype === 'f32';
}

/** The gate kernel's channel limits: C and S in fours (vec4s), at most 1024 (its workgroup caches). */
function gateFits(c: number, sq: number): boolean {
  return c % 4 === 0 && sq % 4 === 0 && c <= 1024 && sq <= 1024;
}

/**
 * The squeeze-and-excitation gate of MobileNetV3 in one kernel, for inference:
 * hsigmoid(relu(mean_hw(x) · w1 + b1) · w2 + b2), [N, C], for x [N, H, W, C], w1 [C, S], b1 [S],
 * w2 [S, C], b2 [C] (C and S in fours, at most 1024). Equal to the separate ops (pool, linear +
 * ReLU, linear + h-sigmoid) within float rounding. Forward only: no graph node is recorded, so
 * inputs that need a gradient are refused.
 */
export function squeezeExciteGate(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor {
  const dims = (t: Tensor) => `[${t.shape.join(', ')}]`;
  const what = `squeezeExciteGate: x ${dims(x)}, w1 ${dims(w1)}, b1 ${dims(b1)}, w2 ${dims(w2)}, b2 ${dims(b2)}`;
  if (isGradEnabled() && [x, w1, b1, w2, b2].some((t) => t.requiresGrad)) {
    throw new MobilegradError(`${what}: forward-only; compute under noGrad, or use squeezeExcite with the separate linears when gradients are needed`);
  }
  if (x.shape.length !== 4) throw new MobilegradError(`${what}: x must be [N, H, W, C]`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const sq = w1.shape[1] ?? 0;
  if (w1.shape.length !== 2 || w1.shape[0] !== c || w2.shape.length !== 2 || w2.shape[0] !== sq || w2.shape[1] !== c || b1.shape.join() !== `${sq}` || b2.shape.join() !== `${c}`) {
    throw new MobilegradError(`${what}: expected w1 [C, S], b1 [S], w2 [S, C], b2 [C] with C = ${c}`);
  }
  if (!gateFits(c, sq)) throw new MobilegradError(`${what}: C and S must be multiples of 4, at most 1024`);
  if ([x, w1, b1, w2, b2].some((t) => t.dtype !== 'f32')) throw new MobilegradError(`${what}: tensors must be f32`);
  return runKernel1(seGate, { gt_x: x, gt_w1: w1, gt_b1: b1, gt_w2: w2, gt_b2: b2 }, { shape: [n, c] }, { n, hw: h * w, cv: c / 4, sv: sq / 4, scale: 1 / (h * w) });
}
