/**
 * Modules: named parameters and buffers, train/eval mode, children, forward hooks.
 * Parameter names follow the module tree (`features.1.block.0.0.weight`); for MobileNetV3 they are
 * exactly torchvision's state_dict keys, so weights move between the two by name.
 */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * How a parameter's GPU layout relates to PyTorch's, for import and export:
 * `hwio` conv [kh,kw,Cin,Cout] vs OIHW; `dw` depthwise [k,k,C] vs [C,1,k,k];
 * `io1x1` 1x1 conv [Cin,Cout] vs [Cout,Cin,1,1]; `io` linear [in,out] vs [out,in]; `same` vectors.
 */
export type ParamLayout = 'hwio' | 'dw' | 'io1x1' | 'io' | 'same';

/** A hook called after a module's forward with its input and output (to capture activations). */
export type ForwardHook = (module: Module, input: Tensor, output: Tensor) => void;

export abstract class Module {
  /** True in training mode (BatchNorm uses batch statistics, dropout drops). */
  training = true;
  private readonly children_ = new Map<string, Module>();
  private readonly params_ = new Map<string, { tensor: Tensor; layout: ParamLayout }>();
  private readonly buffers_ = new Map<string, Tensor>();
  private readonly hooks: ForwardHook[] = [];

  /** The computation; call the module through {@link Module.call} so hooks run. */
  abstract forward(x: Tensor): Tensor;

  /** Runs forward and then the forward hooks. */
  call(x: Tensor): Tensor {
    const y = this.forward(x);
    for (const h of this.hooks) h(this, x, y);
    return y;
  }

  /** @internal The forward hooks, for subclasses that override `call`. */
  protected hooksList(): readonly ForwardHook[] {
    return this.hooks;
  }

  /** Whether forward hooks are registered on this module (fused paths skip modules that have them). */
  get hasForwardHooks(): boolean {
    return this.hooks.length > 0;
  }

  /** Adds a forward hook; returns a function that removes it. */
  addForwardHook(hook: ForwardHook): () => void {
    this.hooks.push(hook);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children_.set(name, m);
    return m;
  }

  protected addParameter(name: string, t: Tensor, layout: ParamLayout): Tensor {
    t.requiresGrad = true;
    this.params_.set(name, { tensor: t, layout });
    return t;
  }

  protected addBuffer(name: string, t: Tensor): Tensor {
    this.buffers_.set(name, t);
    return t;
  }

  /** Direct children by name. */
  namedChildren(): [string, Module][] {
    return [...this.children_];
  }

  /** Every module below this one (itself first), with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.children_) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Trainable parameters with dotted names, in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.params_) out.push([prefix ? `${prefix}.${n}` : n, p.tensor]);
    for (const [n, c] of this.children_) out.push(...c.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Layout of every parameter, by dotted name. */
  parameterLayouts(prefix = ''): Map<string, ParamLayout> {
    const out = new Map<string, ParamLayout>();
    for (const [n, p] of this.params_) out.set(prefix ? `${prefix}.${n}` : n, p.layout);
    for (const [n, c] of this.children_) for (const [k, v] of c.parameterLayouts(prefix ? `${prefix}.${n}` : n)) out.set(k, v);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Non-trainable state (BatchNorm running statistics) with dotted names. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.buffers_) out.push([prefix ? `${prefix}.${n}` : n, b]);
    for (const [n, c] of this.children_) out.push(...c.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Parameters and buffers by name: what a checkpoint stores. */
  stateTensors(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Overwrites the values of the parameter or buffer `name` in place (its tensor keeps its
   * identity, so optimizers and hooks holding it stay valid). `data` is in mobilegrad's layout.
   */
  loadTensor(name: string, data: Float32Array): void {
    const t = this.stateTensors().get(name);
    if (!t) throw new MobilegradError(`no parameter or buffer named '${name}'`);
    if (data.length !== t.size) throw new MobilegradError(`'${name}' has ${t.size} values ([${t.shape}]), got ${data.length}`);
    getDevice().write(t.buffer.buffer, data);
  }

  /** @internal Current tensor of a local parameter or buffer. */
  protected tensorOf(name: string): Tensor {
    const t = this.params_.get(name)?.tensor ?? this.buffers_.get(name);
    if (!t) throw new MobilegradError(`no tensor '${name}'`);
    return t;
  }

  /** Switches this module and its children to training (true) or evaluation (false) mode. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode: BatchNorm uses running statistics, dropout is off. */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients for every parameter (a frozen backbone) or turns them back on. */
  setRequiresGrad(on: boolean): this {
    for (const [, p] of this.namedParameters()) p.requiresGrad = on;
    return this;
  }

  /** Total number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Releases every parameter and buffer (the module cannot be used afterwards). */
  release(): void {
    for (const [, t] of this.stateTensors()) {
      t.grad?.release();
      t.release();
    }
  }
}

/** Children run in order, named 0, 1, 2... as PyTorch's nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.addModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.call(y);
    return y;
  }
}
