/**
 * The learning-rate range test (Smith, "Cyclical Learning Rates", 2017; fastai's `lr_find`): train
 * from the starting weights for a few hundred steps while the learning rate grows exponentially
 * from `startLr` to `endLr`, recording the loss; stop once the loss blows up. Platform-neutral.
 *
 * Suggestion: the learning rate where the smoothed loss is lowest, divided by 10 (fastai's
 * original rule): the loss is still falling fast there, well before it diverges. The steepest
 * descent point is reported too.
 */
import { shuffledBatches } from '../data/batches.js';
import { Rng } from '../tensor/random.js';
import { randomAugmentParams } from './augment-params.js';
import { gatherImages, type ImageSet } from './evaluate.js';
import { backboneFrozen, setBackboneTrainable } from './fine-tune.js';
import { mixSeed, TrainingRun, type LoopConfig } from './loop.js';

/** Options of {@link lrFind}. */
export interface LrFindOptions {
  /** Learning rate of the first step (default 1e-7). */
  startLr?: number;
  /** Learning rate of the last step (default 10). */
  endLr?: number;
  /** Number of steps (default 200); fewer when the loss diverges first. */
  steps?: number;
  /** Stop once the smoothed loss exceeds this many times its minimum (default 4). */
  divergeFactor?: number;
  /** Called with the starting model before the first step (e.g. to load pretrained weights). */
  prepare?: (run: TrainingRun) => void;
  /** Called after each step. */
  onStep?: (step: number, steps: number, lr: number, loss: number) => void;
}

/** What the range test measured and suggests. */
export interface LrFindResult {
  lrs: number[];
  /** Raw loss of each step. */
  losses: number[];
  /** Exponential moving average (beta 0.98, bias-corrected) of the loss. */
  smoothed: number[];
  /** The suggested peak learning rate: `minLossLr / 10`. */
  suggestion: number;
  /** Learning rate at the lowest smoothed loss. */
  minLossLr: number;
  /** Learning rate where the smoothed loss falls fastest (per decade of learning rate). */
  steepestLr: number;
  /** True when the test ended because the loss diverged. */
  diverged: boolean;
}

const BETA = 0.98;

/**
 * Runs the range test on `trainIdx` of `set` with the model, optimizer and augmentation a run with
 * `cfg` would use (its epochs and lr are ignored). The model is thrown away afterwards.
 */
export async function lrFind(cfg: LoopConfig, set: ImageSet, trainIdx: number[], options: LrFindOptions = {}): Promise<LrFindResult> {
  const startLr = options.startLr ?? 1e-7;
  const endLr = options.endLr ?? 10;
  const steps = Math.max(2, Math.floor(options.steps ?? 200));
  const divergeFactor = options.divergeFactor ?? 4;
  if (!(startLr > 0 && endLr > startLr)) throw new RangeError(`lrFind: need 0 < startLr < endLr, got ${startLr} and ${endLr}`);
  const run = new TrainingRun({ ...cfg, epochs: 1, lr: startLr }, set, trainIdx, []);
  try {
    options.prepare?.(run);
    setBackboneTrainable(run.model, !backboneFrozen(0, cfg.fineTune));
    run.model.train();
    const aug = new Rng(mixSeed(cfg.seed, 0x1f));
    const lrs: number[] = [], losses: number[] = [], smoothed: number[] = [];
    let avg = 0, best = Infinity, diverged = false;
    let batches: number[][] = [];
    for (let i = 0, epoch = 0; i < steps; i++) {
      if (!batches.length) batches = shuffledBatches(trainIdx, run.batchSize, mixSeed(cfg.seed, 0x1f, epoch++), true);
      const b = batches.shift()!;
      const lr = startLr * Math.pow(endLr / startLr, i / (steps - 1));
      run.optimizer.paramGroups.forEach((g, gi) => (g.lr = lr * run.lrScales[gi]!));
      const [lossT, logitsT] = run.trainBatch({
        bytes: gatherImages(set, b),
        params: randomAugmentParams(b.length, cfg.imageSize, cfg.augmentation, aug),
        labels: Int32Array.from(b, (k) => set.labels[k]!),
      });
      const loss = (await lossT.toArray())[0]!;
      lossT.release();
      logitsT.release();
      options.onStep?.(i, steps, lr, loss);
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      avg = BETA * avg + (1 - BETA) * loss;
      const s = avg / (1 - Math.pow(BETA, i + 1));
      lrs.push(lr);
      losses.push(loss);
      smoothed.push(s);
      best = Math.min(best, s);
      if (i > 10 && s > divergeFactor * best) {
        diverged = true;
        break;
      }
    }
    return { lrs, losses, smoothed, ...suggest(lrs, smoothed), diverged };
  } finally {
    run.releaseStepPlan();
    run.optimizer.dispose();
    run.classWeights?.release();
    run.model.release();
  }
}

/** The suggestion from a recorded curve (exported for tests). */
export function suggest(lrs: readonly number[], smoothed: readonly number[]): { suggestion: number; minLossLr: number; steepestLr: number } {
  if (!lrs.length) return { suggestion: NaN, minLossLr: NaN, steepestLr: NaN };
  let iMin = 0;
  for (let i = 1; i < smoothed.length; i++) if (smoothed[i]! < smoothed[iMin]!) iMin = i;
  // Steepest descent before the minimum, measured over a window of about a fifth of a decade.
  let iSteep = 0, slope = Infinity;
  for (let i = 0; i < iMin; i++) {
    let j = i + 1;
    while (j < iMin && Math.log10(lrs[j]! / lrs[i]!) < 0.2) j++;
    const d = (smoothed[j]! - smoothed[i]!) / Math.log10(lrs[j]! / lrs[i]!);
    if (d < slope) { slope = d; iSteep = i; }
  }
  return { suggestion: lrs[iMin]! / 10, minLossLr: lrs[iMin]!, steepestLr: lrs[iSteep]! };
}
