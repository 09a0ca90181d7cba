/** Small layers: activations, linear, dropout, squeeze-and-excitation. */
import type { ActivationName } from '../../kernels/activation.js';
import { activation } from '../ops/activation.js';
import { dropout, linear, mul, reshape } from '../ops/index.js';
import { isGradEnabled } from '../autograd/graph.js';
import { linearAct } from '../ops/matmul.js';
import { squeezeExcite, squeezeExciteGate, squeezeExciteGateSuits } from '../ops/squeeze-excite.js';
import { inferenceFusionEnabled } from './inference-fusion.js';
import type { Tensor } from '../tensor/tensor.js';
import { constant, kaimingNormalFanOut, normal } from './init.js';
import { Module } from './module.js';

export class Activation extends Module {
  constructor(readonly kind: ActivationName) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.kind === 'identity' ? x : activation(x, this.kind);
  }
}

/** y = x W + b with W [in, out] (PyTorch stores [out, in]). */
export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, init: 'normal0.01' | 'kaiming' = 'normal0.01') {
    super();
    const w = init === 'kaiming' ? kaimingNormalFanOut([inFeatures, outFeatures], outFeatures) : normal([inFeatures, outFeatures], 0.01);
    this.addParameter('weight', w, 'io');
    this.addParameter('bias', constant([outFeatures], 0), 'same');
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.tensorOf('weight'), this.tensorOf('bias'));
  }
}

/** Inverted dropout; each call draws a fresh seed from the global generator (so `mg.seed` fixes runs). */
export class Dropout extends Module {
  constructor(readonly p: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    // No seed given: the op draws it from the global generator as a per-step value.
    return dropout(x, this.p, { training: true });
  }
}

/**
 * Squeeze-and-excitation: global average pool, 1x1 conv (fc1) + ReLU, 1x1 conv (fc2) + h-sigmoid,
 * then the input scaled per channel. fc1/fc2 act on pooled [N, C] vectors, so they run as linear
 * layers with 1x1-conv weights [Cin, Cout] (torchvision's names: fc1, fc2).
 */
export class SqueezeExcitation extends Module {
  readonly fc1: SEConv;
  readonly fc2: SEConv;
  constructor(readonly channels: number, readonly squeeze: number) {
    super();
    this.fc1 = this.addModule('fc1', new SEConv(channels, squeeze));
    this.fc2 = this.addModule('fc2', new SEConv(squeeze, channels));
  }
  forward(x: Tensor): Tensor {
    const gate = this.inferenceGate(x);
    if (gate) return this.scale(x, gate);
    // One autograd unit (src/ops/squeeze-excite.ts): x's two gradients are written in one pass.
    return squeezeExcite(x, (pooled) => this.fcAct(this.fc2, this.fcAct(this.fc1, pooled, 'relu'), 'hsigmoid'));
  }

  /** x [N, H, W, C] scaled per image and channel by a gate [N, C]. */
  scale(x: Tensor, gate: Tensor): Tensor {
    return mul(x, reshape(gate, [x.shape[0]!, 1, 1, this.channels]));
  }

  /**
   * The gate [N, C] as one kernel (squeezeExciteGate: pool, both linears and activations) in
   * inference at small batches, or null where that would change what the layer does or measured
   * slower: a gradient needed, hooks on the layer or its linears, fusion off, or a batch or shape
   * squeezeExciteGateSuits declines. The block folds it into its projection at batch 1
   * (src/models/mobilenet-v3.ts); the caller releases it.
   */
  inferenceGate(x: Tensor): Tensor | null {
    if (!inferenceFusionEnabled() || this.hasForwardHooks || this.fc1.hasForwardHooks || this.fc2.hasForwardHooks) return null;
    if (isGradEnabled() && (x.requiresGrad || this.parameters().some((p) => p.requiresGrad))) return null;
    if (!squeezeExciteGateSuits(x, this.fc1.weight)) return null;
    return squeezeExciteGate(x, this.fc1.weight, this.fc1.bias, this.fc2.weight, this.fc2.bias);
  }

  /**
   * fc + activation through linearAct (src/ops/matmul.ts: the activation applied as the GEMM
   * stores, its derivative and the bias gradient in one pass), or the layer's own call and the
   * activation op where hooks on the layers must see them (or fusion is off, to compare).
   */
  private fcAct(fc: SEConv, x: Tensor, act: ActivationName): Tensor {
    if (!inferenceFusionEnabled() || this.hasForwardHooks || fc.hasForwardHooks) return activation(fc.call(x), act);
    return linearAct(x, fc.weight, fc.bias, act);
  }
}

/** A 1x1 conv with bias applied to [N, C] vectors (the SE block's fc1 / fc2). */
class SEConv extends Module {
  constructor(inC: number, outC: number) {
    super();
    this.addParameter('weight', kaimingNormalFanOut([inC, outC], outC), 'io1x1');
    this.addParameter('bias', constant([outC], 0), 'same');
  }
  get weight(): Tensor {
    return this.tensorOf('weight');
  }
  get bias(): Tensor {
    return this.tensorOf('bias');
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
