/**
 * The training loop, platform-neutral: images already in memory (8-bit, at the training size),
 * a model, AdamW, the schedule, one epoch at a time. The Node trainer (trainer.ts) and the
 * browser worker wrap it with their own data loading, storage and display.
 */
import { shuffledBatches } from '../data/batches.js';
import type { AugmentationLevel } from '../data/recipe.js';
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { mobilenetV3Small, type MobileNetV3Small } from '../models/mobilenet-v3.js';
import { AdamW } from '../optim/adam.js';
import { tensor } from '../tensor/create.js';
import { keep } from '../tensor/scope.js';
import { globalRng, Rng, seed as seedGlobal } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { randomAugmentParams } from './augment-params.js';
import { decodeCheckpoint, encodeCheckpoint, type RunPosition } from './checkpoint.js';
import { evaluate, gatherImages, recalibrateBatchNorm, type EvalResult, type ImageSet } from './evaluate.js';
import { backboneFrozen, setBackboneTrainable, trainerParamGroups, type FineTuneConfig } from './fine-tune.js';
import { learningRateAt, type ScheduleOptions } from './schedule.js';
import { StepRecorder } from './step-recorder.js';
import { stepKey, trainStepOn, type StepBatch } from './train-step.js';

/** What one training run needs besides the data. */
export interface LoopConfig {
  classes: string[];
  imageSize: number;
  batchSize: number;
  epochs: number;
  lr: number;
  labelSmoothing: number;
  weightDecay: number;
  bnMomentum: number;
  bnRecalibrate: boolean;
  augmentation: AugmentationLevel;
  seed: number;
  /** Stored in checkpoints so a resumed run knows how it started. */
  options: Record<string, unknown>;
  /**
   * Record the training step once and replay it (step-recorder.ts): same losses, far less
   * JavaScript per step. Default: on in Node, off in browsers.
   */
  replay?: boolean;
  /** Prepare the next batch's bytes and augmentation while the GPU runs the current step (default true). */
  overlapData?: boolean;
  /** Per-class loss weights (e.g. balanced for imbalanced data, class-weights.ts); none by default. */
  classWeights?: number[];
  /** Fine-tuning of pretrained weights: head-only epochs, lower backbone learning rate (fine-tune.ts). */
  fineTune?: FineTuneConfig;
}

export interface StepInfo {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  etaSeconds: number;
  lr: number;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
}

export interface EpochEvents {
  onStep?: (s: StepInfo) => void;
  /** Polled between steps: true ends the epoch early (the position records where). */
  shouldStop?: () => boolean;
}

/** Mixes integers into a 32-bit seed (independent streams per epoch and purpose). */
export function mixSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

/** One optimisation step on a batch of 8-bit images, eagerly; returns [loss, logits] kept, not read back. */
export function trainStep(model: MobileNetV3Small, optimizer: AdamW, bytes: Uint8Array, params: Float32Array, labels: Int32Array, size: number, smoothing: number): [Tensor, Tensor] {
  return trainStepOn(model, optimizer, { bytes, params, labels }, size, smoothing);
}

/** A batch drawn for step `s`, with the augmentation generator's state before it was drawn (for checkpoints). */
interface PreparedBatch {
  indices: number[];
  batch: StepBatch;
  augState: number;
}

/** A training run over images held in memory. */
export class TrainingRun {
  readonly model: MobileNetV3Small;
  readonly optimizer: AdamW;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  readonly schedule: ScheduleOptions;
  position: RunPosition;
  /** Result of the latest evaluation. */
  lastEval: EvalResult | null = null;
  /** Images trained on and seconds spent in training steps (for images/s). */
  imagesSeen = 0;
  trainSeconds = 0;
  /** Records the training step once and replays it (a pass-through when `cfg.replay` is off). */
  readonly recorder: StepRecorder;
  /** Each optimizer group's learning rate as a fraction of the schedule's. */
  readonly lrScales: number[];
  /** The loss's class weights on the GPU, when the run uses them. */
  readonly classWeights: Tensor | undefined;
  /** The batch a replayed step reads its per-step uploads from. */
  private readonly batch: StepBatch = { bytes: new Uint8Array(0), params: new Float32Array(0), labels: new Int32Array(0) };

  constructor(readonly cfg: LoopConfig, readonly set: ImageSet, readonly trainIdx: number[], readonly valIdx: number[]) {
    this.batchSize = Math.min(cfg.batchSize, trainIdx.length);
    if (this.batchSize < 2) throw new MobilegradError('fewer than 2 training images after the validation split: add images or lower the validation split');
    seedGlobal(mixSeed(cfg.seed, 0x600d));
    this.model = mobilenetV3Small({ numClasses: cfg.classes.length, bnMomentum: cfg.bnMomentum });
    // Weight decay on conv and linear weights only, as is usual (not on BatchNorm or biases).
    const { groups, lrScales } = trainerParamGroups(this.model, cfg.weightDecay, cfg.fineTune);
    this.optimizer = new AdamW(groups, { lr: cfg.lr });
    this.lrScales = lrScales;
    this.classWeights = cfg.classWeights ? keep(tensor(Float32Array.from(cfg.classWeights), [cfg.classWeights.length])) : undefined;
    this.stepsPerEpoch = Math.floor(trainIdx.length / this.batchSize);
    const totalSteps = this.stepsPerEpoch * cfg.epochs;
    this.schedule = { baseLr: cfg.lr, totalSteps, warmupSteps: Math.min(this.stepsPerEpoch, Math.ceil(totalSteps * 0.1)) };
    this.position = { epoch: 0, stepInEpoch: 0, globalStep: 0, globalRngState: 0, augRngState: 0, history: [], options: cfg.options, classes: cfg.classes, elapsedSeconds: 0 };
    this.recorder = new StepRecorder(cfg.replay ?? getDevice().report.runtime === 'node');
  }

  /**
   * Issues one training step on `batch` (replayed when a recording of it is valid, else eagerly,
   * recording it when possible); returns [loss, logits] for the caller to read and release.
   */
  trainBatch(batch: StepBatch): [Tensor, Tensor] {
    const { cfg, model, optimizer } = this;
    const n = batch.labels.length;
    const weights = this.classWeights;
    if (!this.recorder.enabled) return trainStepOn(model, optimizer, batch, cfg.imageSize, cfg.labelSmoothing, weights);
    Object.assign(this.batch, batch);
    const key = stepKey(model, n, cfg.imageSize, cfg.labelSmoothing);
    const out = this.recorder.run(key, () => trainStepOn(model, optimizer, this.batch, cfg.imageSize, cfg.labelSmoothing, weights));
    return [out[0]!, out[1]!];
  }

  /** Gives the recorded step's reserved GPU buffers back to the pool (training can go on; it records again). */
  releaseStepPlan(): void {
    this.recorder.dispose();
  }

  get done(): boolean {
    return this.position.epoch >= this.cfg.epochs;
  }

  /**
   * Trains the next epoch (or the rest of an interrupted one), then recalibrates BatchNorm and
   * evaluates. Returns the epoch's metrics, or null when `shouldStop` ended it early.
   */
  async runEpoch(ev: EpochEvents = {}): Promise<EpochMetrics | null> {
    const { cfg, set, model, optimizer } = this;
    const epoch = this.position.epoch;
    const batches = shuffledBatches(this.trainIdx, this.batchSize, mixSeed(cfg.seed, epoch, 1), true);
    const aug = new Rng(mixSeed(cfg.seed, epoch, 2));
    seedGlobal(mixSeed(cfg.seed, epoch, 3));
    const first = this.position.stepInEpoch;
    if (first > 0) {
      aug.setState(this.position.augRngState);
      globalRng().setState(this.position.globalRngState);
    }
    setBackboneTrainable(model, !backboneFrozen(epoch, cfg.fineTune));
    model.train();
    const te = performance.now();
    // An epoch interrupted (Ctrl-C, Pause) carries its sums over, so its metrics cover the whole epoch.
    const carried = first > 0 ? this.position.partial : undefined;
    let lossSum = carried?.lossSum ?? 0;
    let correct = carried?.correct ?? 0;
    let seen = carried?.seen ?? 0;
    let seenNow = 0; // images since this call began, for images/s
    const k = cfg.classes.length;
    const prepare = (s: number): PreparedBatch => {
      const b = batches[s]!;
      const augState = aug.getState();
      return { indices: b, augState, batch: { bytes: gatherImages(set, b), params: randomAugmentParams(b.length, cfg.imageSize, cfg.augmentation, aug), labels: Int32Array.from(b, (i) => set.labels[i]!) } };
    };
    const overlap = cfg.overlapData ?? true;
    // Steps are pipelined: step s is issued (its readback started) before step s-1's loss and
    // logits are awaited, so the GPU goes from one step to the next without waiting for the
    // JavaScript between them (readback, metrics, drawing the next batch, encoding the replay).
    // The readback's copies are queued before the next step can overwrite its outputs.
    interface InFlight { s: number; lr: number; indices: number[]; labels: Int32Array; lossT: Tensor; logitsT: Tensor; read: Promise<[ArrayLike<number>, ArrayLike<number>]> }
    let inflight: InFlight | null = null;
    let mark = performance.now();
    const finish = async (f: InFlight): Promise<void> => {
      let lossArr: ArrayLike<number>, logitsArr: ArrayLike<number>;
      try {
        [lossArr, logitsArr] = await f.read;
      } finally {
        f.lossT.release();
        f.logitsT.release();
      }
      const loss = lossArr[0]!;
      const now = performance.now();
      this.trainSeconds += (now - mark) / 1000;
      mark = now;
      if (!Number.isFinite(loss)) throw new DivergedError(loss, epoch, f.s);
      const { indices: b, labels } = f;
      for (let i = 0; i < b.length; i++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (logitsArr[i * k + c]! > logitsArr[i * k + best]!) best = c;
        if (best === labels[i]) correct++;
      }
      lossSum += loss * b.length;
      seen += b.length;
      seenNow += b.length;
      this.imagesSeen += b.length;
      const elapsed = (now - te) / 1000;
      ev.onStep?.({
        epoch, epochs: cfg.epochs, step: f.s, steps: batches.length, loss: lossSum / seen, accuracy: correct / seen,
        imagesPerSecond: seenNow / Math.max(elapsed, 1e-9), etaSeconds: (batches.length - f.s - 1) * (elapsed / (f.s - first + 1)), lr: f.lr,
      });
    };
    let next: PreparedBatch | null = null;
    try {
      for (let s = first; s < batches.length; s++) {
        if (ev.shouldStop?.()) {
          const last = inflight;
          inflight = null;
          if (last) await finish(last);
          // A batch drawn ahead was not trained on: the checkpoint resumes from the state before it.
          this.position = { ...this.position, stepInEpoch: s, globalRngState: globalRng().getState(), augRngState: next?.augState ?? aug.getState(), partial: { lossSum, correct, seen } };
          return null;
        }
        const cur: PreparedBatch = next ?? prepare(s);
        next = null;
        const lr = learningRateAt(this.position.globalStep, this.schedule);
        optimizer.paramGroups.forEach((g, i) => (g.lr = lr * this.lrScales[i]!));
        const [lossT, logitsT] = this.trainBatch(cur.batch);
        // toArray queues the copies and submits the step now; both are awaited below (one round trip).
        const read = Promise.all([lossT.toArray(), logitsT.toArray()]);
        read.catch(() => {}); // awaited in finish; an early throw elsewhere must not leave it unhandled
        this.position.globalStep++;
        const issued: InFlight = { s, lr, indices: cur.indices, labels: cur.batch.labels, lossT, logitsT, read };
        const previous = inflight;
        inflight = issued;
        if (previous) await finish(previous);
        // While the GPU runs step s, draw and gather the next batch (no GPU work: nothing waits on it).
        if (overlap && s + 1 < batches.length) next = prepare(s + 1);
      }
      const last = inflight;
      inflight = null;
      if (last) await finish(last);
    } finally {
      // A throw (divergence) with a step still in flight: let its readback end before its tensors go.
      if (inflight) {
        const f: InFlight = inflight;
        await f.read.catch(() => {});
        f.lossT.release();
        f.logitsT.release();
      }
    }
    if (cfg.bnRecalibrate) await recalibrateBatchNorm(model, set, batches.flat(), this.batchSize);
    this.lastEval = this.valIdx.length ? await evaluate(model, set, this.valIdx, this.batchSize) : null;
    const seconds = (performance.now() - te) / 1000;
    const m: EpochMetrics = {
      epoch: epoch + 1, trainLoss: lossSum / Math.max(1, seen), trainAcc: correct / Math.max(1, seen),
      valLoss: this.lastEval?.loss ?? NaN, valAcc: this.lastEval?.accuracy ?? NaN, lr: optimizer.lr, seconds, imagesPerSecond: seenNow / seconds,
    };
    this.position.history.push({ ...m });
    this.position = { ...this.position, epoch: epoch + 1, stepInEpoch: 0, partial: undefined };
    return m;
  }

  /** The checkpoint blob of the current position. */
  checkpoint(elapsedSeconds: number): Promise<Uint8Array> {
    this.position.elapsedSeconds = elapsedSeconds;
    return encodeCheckpoint(this.model, this.optimizer, this.position);
  }

  /** Continues from a checkpoint blob. */
  restore(bytes: Uint8Array, what?: string): void {
    this.position = decodeCheckpoint(bytes, this.model, this.optimizer, what);
  }

  /** Final evaluation (the last epoch's, or a fresh one). */
  async finalEvaluation(): Promise<EvalResult | null> {
    return this.lastEval ?? (this.valIdx.length ? evaluate(this.model, this.set, this.valIdx, this.batchSize) : null);
  }
}

/** The loss became NaN or infinite. */
export class DivergedError extends MobilegradError {
  constructor(readonly loss: number, readonly epoch: number, readonly step: number) {
    super(`the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1}: training diverged`);
  }
}
