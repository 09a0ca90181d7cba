/**
 * MobileNetV3-Small built from its config table, with torchvision's module tree so that parameter
 * names equal torchvision's state_dict keys. Input NHWC [N, H, W, 3], output logits [N, classes].
 */
import { globalAvgPool } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { Activation, Dropout, Linear, SqueezeExcitation } from '../nn/layers.js';
import { Module, Sequential } from '../nn/module.js';
import { add } from '../ops/elementwise.js';
import { convBnAct, convBnActScalesInput, convBnActSupports } from '../ops/conv-bn-act.js';
import type { ActivationName } from '../../kernels/activation.js';
import { isGradEnabled } from '../autograd/graph.js';
import { inferenceFusionEnabled, setInferenceFusion } from '../nn/inference-fusion.js';
import { resolveConfig, type BlockActivation, type CustomActivation, type MobileNetV3Options, type ResolvedBlockConfig } from './mobilenet-v3-config.js';

/** A custom activation as a module (no parameters), so it sits where torchvision's activation does. */
export class CustomActivationModule extends Module {
  constructor(readonly activation: CustomActivation) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.activation.apply(x);
  }
}

/** Conv + BatchNorm (+ activation): torchvision's Conv2dNormActivation, children "0" and "1". */
export class ConvBNAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly activation: Module | null;
  constructor(inC: number, outC: number, kernel: number, stride: number, groups: number, readonly act: BlockActivation, bnMomentum: number) {
    super();
    this.conv = this.addModule('0', new Conv2d(inC, outC, kernel, { stride, groups, padding: Math.floor(kernel / 2) }));
    this.bn = this.addModule('1', new BatchNorm2d(outC, { momentum: bnMomentum }));
    this.activation = act === 'identity' ? null : this.addModule('2', typeof act === 'string' ? new Activation(act) : new CustomActivationModule(act));
  }
  forward(x: Tensor): Tensor {
    const fused = this.fusedForward(x);
    if (fused) return fused;
    // A built-in activation runs fused with BatchNorm (one kernel, forward and backward).
    if (typeof this.act === 'string') return this.bn.call(this.conv.call(x), this.act);
    return this.activation!.call(this.bn.call(this.conv.call(x)));
  }

  /**
   * Conv, BatchNorm, activation and `residual` (added last) as one kernel (src/ops/conv-bn-act.ts),
   * or null where that would change what the layer does: in training mode, when a gradient is
   * needed, with hooks on the layer or its parts, a custom activation, a conv bias, or output
   * channels not in fours. The caller then runs the separate ops.
   */
  fusedForward(x: Tensor, residual?: Tensor, inputScale?: Tensor): Tensor | null {
    if (!this.fuses(x, residual)) return null;
    if (inputScale && !(this.conv.kind === 'pointwise' && convBnActScalesInput(x, this.conv.weight))) return null;
    const { stride, padding } = this.conv;
    const epi = this.bn.epilogue(this.act as ActivationName, residual);
    return convBnAct(this.conv.kind, x, this.conv.weight, inputScale ? { ...epi, inputScale } : epi, { stride, padding });
  }

  /**
   * Whether {@link fusedForward} takes an `inputScale` for `x` (a per-channel scale of x, the SE
   * gate, folded into the projection's weights as they load): a pointwise conv of one image that
   * fuses at all, on the subgroup GEMM.
   */
  scalesInput(x: Tensor): boolean {
    return this.conv.kind === 'pointwise' && this.fuses(x) && convBnActScalesInput(x, this.conv.weight);
  }

  private fuses(x: Tensor, residual?: Tensor): boolean {
    if (!inferenceFusionEnabled() || this.training || this.bn.training || typeof this.act !== 'string') return false;
    if (this.conv.hasBias || !convBnActSupports(this.conv.outChannels)) return false;
    if (this.hasForwardHooks || this.conv.hasForwardHooks || this.bn.hasForwardHooks || this.activation?.hasForwardHooks) return false;
    return !(isGradEnabled() && (x.requiresGrad || residual?.requiresGrad || this.parameters().some((p) => p.requiresGrad)));
  }
}

export { setInferenceFusion };

/** The bneck block: expand (1x1), depthwise, optional SE, project (1x1, linear); residual when shapes allow. */
export class InvertedResidual extends Module {
  readonly block: Sequential;
  readonly residual: boolean;
  constructor(cfg: ResolvedBlockConfig, bnMomentum: number) {
    super();
    const layers: Module[] = [];
    if (cfg.expanded !== cfg.in) layers.push(new ConvBNAct(cfg.in, cfg.expanded, 1, 1, 1, cfg.activation, bnMomentum));
    layers.push(new ConvBNAct(cfg.expanded, cfg.expanded, cfg.kernel, cfg.stride, cfg.expanded, cfg.activation, bnMomentum));
    if (cfg.se) layers.push(new SqueezeExcitation(cfg.expanded, cfg.squeeze));
    layers.push(new ConvBNAct(cfg.expanded, cfg.out, 1, 1, 1, 'identity', bnMomentum));
    this.block = this.addModule('block', new Sequential(layers));
    this.residual = cfg.stride === 1 && cfg.in === cfg.out;
  }
  forward(x: Tensor): Tensor {
    const layers = this.block.layers;
    const last = layers[layers.length - 1];
    const se = layers[layers.length - 2];
    if ((this.residual || se instanceof SqueezeExcitation) && last instanceof ConvBNAct && !this.block.hasForwardHooks) {
      // Evaluation: the residual add, and at batch 1 the SE gate's channel scale, go into the
      // projection's fused kernel when it can take them.
      let h = x;
      for (const m of layers.slice(0, -2)) h = m.call(h);
      const gate = se instanceof SqueezeExcitation && last.scalesInput(h) ? se.inferenceGate(h) : null;
      if (!gate) h = layers[layers.length - 2]!.call(h);
      const residual = this.residual ? x : undefined;
      let y = last.fusedForward(h, residual, gate ?? undefined);
      if (!y && gate) h = (se as SqueezeExcitation).scale(h, gate);
      gate?.release();
      if (!y) {
        const out = last.call(h);
        y = residual ? add(out, residual) : out;
      }
      return y;
    }
    const y = this.block.call(x);
    return this.residual ? add(y, x) : y;
  }
}

/** MobileNetV3-Small. `features` (stem, 11 blocks, last conv), then pool and `classifier`. */
export class MobileNetV3Small extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;
  readonly config: ReturnType<typeof resolveConfig>;
  readonly options: Required<Omit<MobileNetV3Options, 'blocks' | 'blockFactory'>> & Pick<MobileNetV3Options, 'blocks' | 'blockFactory'>;

  constructor(options: MobileNetV3Options) {
    super();
    this.options = { dropout: 0.2, widthMultiplier: 1, bnMomentum: 0.01, ...options };
    const c = (this.config = resolveConfig(options));
    const m = this.options.bnMomentum;
    const feats: Module[] = [new ConvBNAct(3, c.stem, 3, 2, 1, 'hswish', m)];
    c.blocks.forEach((b, i) => feats.push(options.blockFactory?.(b, i, m) ?? new InvertedResidual(b, m)));
    feats.push(new ConvBNAct(c.blocks[c.blocks.length - 1]!.out, c.lastConv, 1, 1, 1, 'hswish', m));
    this.features = this.addModule('features', new Sequential(feats));
    this.classifier = this.addModule(
      'classifier',
      new Sequential([new Linear(c.lastConv, c.hidden), new Activation('hswish'), new Dropout(this.options.dropout), new Linear(c.hidden, c.numClasses)]),
    );
  }

  get numClasses(): number {
    return this.config.numClasses;
  }

  /** Logits [N, classes] for an NHWC batch [N, H, W, 3]. */
  forward(x: Tensor): Tensor {
    const f = this.features.call(x);
    return this.classifier.call(globalAvgPool(f));
  }

  /** Sets the BatchNorm momentum of every layer. */
  setBatchNormMomentum(momentum: number): void {
    for (const [, mod] of this.namedModules()) if (mod instanceof BatchNorm2d) mod.momentum = momentum;
  }
}

/** Builds MobileNetV3-Small exactly as torchvision's `mobilenet_v3_small` (2,542,856 parameters at 1000 classes). */
export function mobilenetV3Small(options: MobileNetV3Options): MobileNetV3Small {
  return new MobileNetV3Small(options);
}
