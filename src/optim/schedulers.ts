/**
 * Learning-rate schedules. A schedule is a pure function from the step number (0-based) to a
 * factor of each parameter group's base learning rate, so schedules compose (`sequence`,
 * `product`) and are easy to test; `LRScheduler` applies one to an optimizer, PyTorch-style:
 * call `scheduler.step()` once per optimizer step (or per epoch, if the schedule counts epochs).
 */
import { MobilegradError } from '../device/errors.js';
import type { Optimizer } from './optimizer.js';

/** Factor of the base learning rate at `step` (0-based). */
export type Schedule = (step: number) => number;

function positiveInt(v: number, what: string): void {
  if (!(Number.isInteger(v) && v > 0)) throw new MobilegradError(`${what} must be a positive integer, got ${v}`);
}

/** Always 1: the base learning rate. */
export function constant(): Schedule {
  return () => 1;
}

/** Multiplies by `gamma` every `stepSize` steps (PyTorch's StepLR). */
export function stepDecay(o: { stepSize: number; gamma?: number }): Schedule {
  positiveInt(o.stepSize, 'stepDecay: stepSize');
  const gamma = o.gamma ?? 0.1;
  return (t) => gamma ** Math.floor(t / o.stepSize);
}

/** Multiplies by `gamma` at each milestone step (PyTorch's MultiStepLR). */
export function multiStepDecay(o: { milestones: readonly number[]; gamma?: number }): Schedule {
  const gamma = o.gamma ?? 0.1;
  return (t) => gamma ** o.milestones.filter((m) => t >= m).length;
}

/** Half a cosine from 1 down to `floor` over `steps` steps, then `floor` (PyTorch's CosineAnnealingLR, eta_min = floor x base). */
export function cosineDecay(o: { steps: number; floor?: number }): Schedule {
  positiveInt(o.steps, 'cosineDecay: steps');
  const floor = o.floor ?? 0;
  return (t) => floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t / o.steps)));
}

/**
 * Linear ramp from `startFactor` to 1 over `steps` steps, then 1 (PyTorch's LinearLR with
 * end_factor 1). Step 0 runs at `startFactor`.
 */
export function linearWarmup(o: { steps: number; startFactor?: number }): Schedule {
  positiveInt(o.steps, 'linearWarmup: steps');
  const s = o.startFactor ?? 0.1;
  return (t) => (t >= o.steps ? 1 : s + ((1 - s) * t) / o.steps);
}

/**
 * One-cycle (Smith 2018; PyTorch's OneCycleLR with cosine annealing): from 1/divFactor up to 1 over
 * the first `pctStart` of `steps`, then down to 1/(divFactor x finalDivFactor). The optimizer's
 * learning rate is the peak.
 */
export function oneCycle(o: { steps: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }): Schedule {
  positiveInt(o.steps, 'oneCycle: steps');
  const pct = o.pctStart ?? 0.3;
  if (!(pct > 0 && pct < 1)) throw new MobilegradError(`oneCycle: pctStart must be in (0, 1), got ${pct}`);
  const start = 1 / (o.divFactor ?? 25);
  const end = start / (o.finalDivFactor ?? 1e4);
  // PyTorch's phase boundaries: step pct*steps - 1 is the peak, step steps - 1 the end.
  const up = pct * o.steps - 1;
  const last = o.steps - 1;
  const cos = (a: number, b: number, f: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * f));
  return (t) => {
    if (t <= up) return cos(start, 1, up > 0 ? t / up : 1);
    return cos(1, end, Math.min(1, (t - up) / Math.max(1e-12, last - up)));
  };
}

/**
 * Runs schedules one after another: each `[schedule, steps]` for that many steps (its own step
 * count restarting at 0), then `rest` (PyTorch's SequentialLR).
 * Warm-up then cosine: `sequence([[linearWarmup({ steps: 100 }), 100]], cosineDecay({ steps: 900 }))`.
 */
export function sequence(parts: readonly (readonly [Schedule, number])[], rest: Schedule): Schedule {
  for (const [, n] of parts) positiveInt(n, 'sequence: each part length');
  return (t) => {
    let start = 0;
    for (const [s, n] of parts) {
      if (t < start + n) return s(t - start);
      start += n;
    }
    return rest(t - start);
  };
}

/** The product of schedules at each step (PyTorch's ChainedScheduler). */
export function product(...schedules: Schedule[]): Schedule {
  return (t) => schedules.reduce((f, s) => f * s(t), 1);
}

/** Saved position of an {@link LRScheduler}. */
export interface SchedulerState {
  step: number;
  baseLrs: number[];
}

/**
 * Applies a schedule to an optimizer's parameter groups: each group's learning rate becomes its
 * base learning rate (its `lr` when the scheduler was made) times the schedule's factor. The
 * factor of step 0 is applied at once, as PyTorch's schedulers do; `step()` advances.
 */
export class LRScheduler {
  /** Steps taken (`step()` calls). */
  stepCount = 0;
  /** Learning rate of each group at construction. */
  readonly baseLrs: number[];

  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.apply();
  }

  /** Advances one step and sets the groups' learning rates. */
  step(): void {
    this.stepCount++;
    this.apply();
  }

  /** Learning rate of each group now. */
  get lastLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return { step: this.stepCount, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(s: SchedulerState): void {
    if (s.baseLrs.length !== this.baseLrs.length) throw new MobilegradError(`LRScheduler.loadStateDict: the state has ${s.baseLrs.length} groups, the optimizer ${this.baseLrs.length}`);
    this.baseLrs.splice(0, this.baseLrs.length, ...s.baseLrs);
    this.stepCount = s.step;
    this.apply();
  }

  private apply(): void {
    const f = this.schedule(this.stepCount);
    if (!(f >= 0) || !Number.isFinite(f)) throw new MobilegradError(`LRScheduler: the schedule gave ${f} at step ${this.stepCount}; factors are finite and >= 0`);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.baseLrs[i]! * f));
  }
}

/** The schedule builders, as one namespace: `mg.schedules.cosineDecay({ steps })`. */
export const schedules = { constant, stepDecay, multiStepDecay, cosineDecay, linearWarmup, oneCycle, sequence, product };
